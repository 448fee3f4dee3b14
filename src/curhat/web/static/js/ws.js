// The WebSocket client: token as the "bearer.<token>" subprotocol, a ping every 12 s, reconnect
// with jittered exponential backoff, an "open" event after every (re)connect so the app re-reads
// its state from the REST API, and chat messages sent while offline delivered on reconnect with
// the same client_msg_id (the server stores a resend only once).

import { clock } from "./clock.js";

const PING_MS = 12000;
const SILENCE_MS = 35000; // no frame at all for this long: the connection is dead
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
const CLOSE_BAD_TOKEN = 4401;
// Only a socket that stayed open this long resets the backoff: a server that accepts and at once
// closes (1012 while it drains, 1013 while Valkey is down) is retried less and less often.
const STABLE_MS = 5000;

export function socketUrl(path = "/ws") {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export class Realtime {
  // tokens: a TokenStore; onUnauthorized: called when the server refuses the token (4401).
  constructor({ tokens, onUnauthorized = () => {}, url = socketUrl() }) {
    this.tokens = tokens;
    this.onUnauthorized = onUnauthorized;
    this.url = url;
    this.ws = null;
    this.attempt = 0;
    this.openedAt = 0;
    this.stopped = true;
    this.timers = { ping: null, retry: null, silence: null };
    this.handlers = new Map();
    this.outbox = new Map(); // client_msg_id → chat.send frame, until the server echoes it
    this.status = "offline";
    this.connectedOnce = false;
    this.wake = () => {
      if (!this.stopped && this.status === "offline") this.connectNow();
    };
  }

  // on("CHAT_MESSAGE", fn), on("*", fn) for every event, on("open", fn) after each (re)connect,
  // on("status", fn) with "connecting" | "open" | "offline". Returns an unsubscribe function.
  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    return () => this.handlers.get(type)?.delete(handler);
  }

  emit(type, detail) {
    for (const handler of this.handlers.get(type) || []) {
      try {
        handler(detail);
      } catch (err) {
        console.error(err);
      }
    }
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.wake);
    document.addEventListener("visibilitychange", this.wake);
    this.connectNow();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.wake);
    document.removeEventListener("visibilitychange", this.wake);
    this.clearTimers();
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.setStatus("offline");
  }

  connectNow() {
    clearTimeout(this.timers.retry);
    const token = this.tokens.get();
    if (!token) {
      this.onUnauthorized();
      return;
    }
    this.setStatus("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url, [`bearer.${token}`]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      if (ws !== this.ws) return;
      this.openedAt = Date.now();
      this.setStatus("open");
      this.startHeartbeat();
      const reconnect = this.connectedOnce;
      this.connectedOnce = true;
      this.emit("open", { reconnect });
      for (const frame of this.outbox.values()) this.raw(frame);
    });
    ws.addEventListener("message", (message) => {
      if (ws !== this.ws) return;
      this.heard();
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.type === "pong") return;
      if (frame.ts) clock.observe(frame.ts);
      if (frame.type === "CHAT_MESSAGE") {
        const id = frame.data?.message?.client_msg_id;
        if (id) this.outbox.delete(id);
      }
      this.emit(frame.type, frame.data || {});
      this.emit("*", frame);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.clearTimers();
      this.setStatus("offline");
      if (event.code === CLOSE_BAD_TOKEN) {
        this.stopped = true;
        this.onUnauthorized();
        return;
      }
      if (this.openedAt && Date.now() - this.openedAt >= STABLE_MS) this.attempt = 0;
      this.openedAt = 0;
      // Every other code reconnects, 1012 (this server restarting or replaced) included.
      if (!this.stopped) this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.attempt += 1;
    const delay = cap / 2 + Math.random() * (cap / 2);
    clearTimeout(this.timers.retry);
    this.timers.retry = setTimeout(() => this.connectNow(), delay);
  }

  startHeartbeat() {
    clearInterval(this.timers.ping);
    this.timers.ping = setInterval(() => this.raw({ type: "ping" }), PING_MS);
    this.heard();
  }

  heard() {
    clearTimeout(this.timers.silence);
    this.timers.silence = setTimeout(() => {
      // Half-open TCP: close it ourselves; the close handler reconnects.
      if (this.ws) this.ws.close(4000);
    }, SILENCE_MS);
  }

  clearTimers() {
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.silence);
    clearTimeout(this.timers.retry);
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.emit("status", status);
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  // A frame that may be lost while offline (typing, read receipts): true if it went out.
  raw(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // A chat message: kept until the server echoes its client_msg_id, resent on every reconnect.
  sendChat(chatSessionId, body, clientMsgId = crypto.randomUUID()) {
    const frame = { type: "chat.send", chat_session_id: chatSessionId, body, client_msg_id: clientMsgId };
    this.outbox.set(clientMsgId, frame);
    this.raw(frame);
    return clientMsgId;
  }

  // Messages still waiting for the server, for one chat (shown as "sending").
  pending(chatSessionId) {
    return [...this.outbox.values()].filter((f) => f.chat_session_id === chatSessionId);
  }

  dropPending(chatSessionId) {
    for (const [id, frame] of this.outbox) if (frame.chat_session_id === chatSessionId) this.outbox.delete(id);
  }
}
