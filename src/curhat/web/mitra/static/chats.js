// Several chats at once, up to the capacity: the list (unread counts, each chat's time left, a
// flag for a waiting extension) and the open chat (messages, countdown, draft kept per chat,
// the extension card with "Setujui"/"Tolak").
//
// Each chat keeps its own message nodes, detached while another chat is open, so switching is
// instant and a draft or a half-read history is exactly where the listener left it.

import { $, fill, fromTemplate, show, text } from "/static/js/dom.js";
import { countdown, minutes, time } from "/static/js/format.js";
import { clock } from "/static/js/clock.js";
import { extensionCopy } from "./extension.js";

const LATE_MS = 4000;
const TYPING_SHOW_MS = 4000;
const TYPING_EVERY_MS = 2000;

function inWords(seconds) {
  return seconds >= 60 ? `${Math.round(seconds / 60)} menit` : `${seconds} detik`;
}

class ChatState {
  constructor(row) {
    this.id = row.id;
    this.name = row.customer?.display_name || "Pelanggan";
    this.endsAt = row.ends_at;
    this.active = row.status === "active";
    this.nodes = []; // <li> in time order
    this.byKey = new Map(); // message id or client_msg_id → <li>
    this.unread = 0;
    this.draft = "";
    this.extension = null; // {id, minutes, expiresAt, defaultAction}
    this.extensionMinutes = new Map(); // extension id → minutes, for the answer that may come late
    this.banner = null; // {text, ok}
    this.typingUntil = 0;
    this.lastReadSent = null;
    this.lastTypingSent = 0;
    this.lastMine = null; // the newest <li> this side sent, for the "Dibaca" receipt
    this.row = null;
  }
}

export class Chats {
  // ctx: {api, rt, toast, errorText, attention, settings(), setView(view), onCountsChanged()}
  constructor(ctx) {
    this.ctx = ctx;
    this.chats = new Map();
    this.openId = null;
    this.list = $("#chat-list");
    this.pane = $("#chat-open");
    this.placeholder = $("#chat-placeholder");
    this.messages = $("#messages");
    this.scroller = $("#messages-box");
    this.form = $("#composer");
    this.input = $("#message");
    this.banner = $("#chat-banner");
    this.extCard = $("#extension");
    this.stopExt = null;
    this.extLate = null;

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener("input", () => {
      const chat = this.current;
      if (chat) chat.draft = this.input.value;
      this.typing();
    });
    $("#ext-approve").addEventListener("click", () => this.answerExtension("approve"));
    $("#ext-reject").addEventListener("click", () => this.answerExtension("reject"));
    $("#chat-close").addEventListener("click", () => this.dismiss(this.openId));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.current) this.markRead(this.current);
    });
    // One timer for every countdown on the list and in the open chat.
    setInterval(() => this.tick(), 1000);

    const rt = ctx.rt;
    rt.on("CHAT_SESSION_STARTED", (d) => this.started(d));
    rt.on("CHAT_MESSAGE", (d) => this.message(d.chat_session_id, d.message));
    rt.on("CHAT_SESSION_ENDING", (d) => this.ending(d));
    rt.on("CHAT_SESSION_ENDED", (d) => this.ended(d.chat_session_id));
    rt.on("EXTENSION_REQUEST", (d) => this.extensionRequested(d));
    rt.on("EXTENSION_APPROVED", (d) => this.extensionResolved(d, true));
    rt.on("EXTENSION_REJECTED", (d) => this.extensionResolved(d, false));
    rt.on("CHAT_TYPING", (d) => this.peerTyping(d));
    rt.on("CHAT_READ", (d) => this.peerRead(d));
  }

  get current() {
    return this.openId ? this.chats.get(this.openId) : null;
  }

  get activeCount() {
    return [...this.chats.values()].filter((c) => c.active).length;
  }

  // ── reading from the server ────────────────────────────────────────────

  /** After load and every reconnect: the active chats, their messages and pending extensions. */
  async resync() {
    const { api } = this.ctx;
    const page = await api.get("/api/mitra/chat-sessions?status=active&limit=20");
    const activeIds = new Set(page.rows.map((r) => r.id));
    const gone = [...this.chats.values()].filter((c) => c.active && !activeIds.has(c.id));
    await Promise.all([...page.rows.map((row) => this.load(row.id)), ...gone.map((c) => this.load(c.id))]);
  }

  /** Read one chat (detail + latest messages) and merge it into what is shown. */
  async load(id) {
    const { api, rt } = this.ctx;
    let detail;
    let page;
    try {
      [detail, page] = await Promise.all([
        api.get(`/api/mitra/chat-sessions/${id}`),
        api.get(`/api/mitra/chat-sessions/${id}/messages?limit=100`),
      ]);
    } catch (error) {
      if (error.status === 404) this.dismiss(id);
      return;
    }
    const chat = this.ensure(detail);
    chat.endsAt = detail.ends_at;
    for (const message of page.rows) this.add(chat, message, { quiet: true });
    for (const frame of rt.pending(id)) this.addPending(chat, frame.client_msg_id, frame.body);
    if (detail.customer_read_up_to) this.peerRead({ chat_session_id: id, up_to_message_id: detail.customer_read_up_to });
    if (detail.mitra_read_up_to) chat.lastReadSent = detail.mitra_read_up_to;
    const pending = detail.pending_extension;
    if (pending && detail.status === "active") {
      const settings = this.ctx.settings();
      this.setExtension(chat, {
        id: pending.extension_request_id,
        minutes: pending.duration_minutes,
        expiresAt: pending.expires_at,
        defaultAction: settings?.extension_default_action_on_timeout || "auto_approve",
      });
    } else if (chat.extension) {
      this.setExtension(chat, null);
    }
    if (detail.status !== "active") this.markEnded(chat);
    this.renderRow(chat);
    if (chat.id === this.openId) this.renderOpen();
  }

  ensure(row) {
    let chat = this.chats.get(row.id);
    if (!chat) {
      chat = new ChatState(row);
      this.chats.set(chat.id, chat);
      chat.row = fromTemplate("tpl-chat-row");
      chat.row.querySelector("button").addEventListener("click", () => this.open(chat.id));
      fill(chat.row, { name: chat.name });
      this.list.append(chat.row);
      this.renderEmpty();
      this.ctx.onCountsChanged();
    }
    return chat;
  }

  // ── events ─────────────────────────────────────────────────────────────

  started(data) {
    const chat = this.ensure({ id: data.chat_session_id, customer: data.customer, ends_at: data.ends_at, status: "active" });
    chat.endsAt = data.ends_at;
    this.renderRow(chat);
    this.load(chat.id);
  }

  message(chatId, message) {
    const chat = this.chats.get(chatId);
    if (!chat) {
      this.load(chatId);
      return;
    }
    this.add(chat, message);
  }

  ending(data) {
    const chat = this.chats.get(data.chat_session_id);
    if (!chat) return;
    chat.endsAt = data.ends_at;
    this.say(chat, `Sesi akan berakhir dalam ${inWords(data.seconds_left)}.`);
  }

  ended(chatId) {
    const chat = this.chats.get(chatId);
    if (chat) this.markEnded(chat);
  }

  extensionRequested(data) {
    const chat = this.chats.get(data.chat_session_id);
    if (!chat) {
      this.load(data.chat_session_id);
      return;
    }
    this.setExtension(chat, {
      id: data.extension_request_id,
      minutes: data.duration_minutes,
      expiresAt: data.expires_at,
      defaultAction: data.default_action,
    });
    const title = `${chat.name} minta perpanjangan ${minutes(data.duration_minutes)}`;
    this.ctx.attention.alert({ key: `extension:${data.extension_request_id}`, title, body: "Setujui atau tolak sekarang." });
    // With no chat open, open this one: the card has only seconds to be seen.
    if (!this.openId) this.open(chat.id);
  }

  extensionResolved(data, approved) {
    const chat = this.chats.get(data.chat_session_id);
    this.ctx.attention.resolve(`extension:${data.extension_request_id}`);
    if (!chat) return;
    const added = chat.extensionMinutes.get(data.extension_request_id);
    this.setExtension(chat, null);
    const auto = data.resolution && data.resolution.startsWith("auto");
    if (approved) {
      chat.endsAt = data.ends_at;
      const what = added ? `Sesi diperpanjang ${minutes(added)}` : "Sesi diperpanjang";
      this.say(chat, auto ? `${what} (otomatis).` : `${what}.`, true);
    } else {
      this.say(chat, auto ? "Perpanjangan ditolak otomatis." : "Perpanjangan ditolak.");
    }
    this.renderRow(chat);
  }

  peerTyping(data) {
    const chat = this.chats.get(data.chat_session_id);
    if (!chat || data.sender_role === "mitra") return;
    chat.typingUntil = Date.now() + TYPING_SHOW_MS;
    if (chat.id === this.openId) text($("#typing"), `${chat.name} sedang mengetik…`);
  }

  peerRead(data) {
    const chat = this.chats.get(data.chat_session_id);
    if (!chat || data.reader_role === "mitra") return;
    const li = chat.byKey.get(data.up_to_message_id);
    if (!li) return;
    // Everything this side sent up to that message has been read.
    for (const node of chat.nodes) {
      if (node.classList.contains("mine") && !node.classList.contains("pending")) fill(node, { status: "Dibaca" });
      if (node === li) break;
    }
  }

  // ── messages ───────────────────────────────────────────────────────────

  li(body, mine) {
    const li = fromTemplate("tpl-message");
    li.classList.toggle("mine", mine);
    fill(li, { body });
    return li;
  }

  insert(chat, li) {
    const at = li.dataset.at;
    let index = chat.nodes.length;
    if (at) {
      const later = chat.nodes.findIndex((n) => n.dataset.at && n.dataset.at > at);
      if (later >= 0) index = later;
    }
    const next = chat.nodes[index] || null;
    chat.nodes.splice(index, 0, li);
    if (chat.id === this.openId) {
      const stick = this.nearBottom();
      this.messages.insertBefore(li, next);
      if (stick || li.classList.contains("mine")) this.scrollToEnd();
    }
  }

  add(chat, message, { quiet = false } = {}) {
    if (chat.byKey.has(message.id)) return;
    const mine = message.sender_role === "mitra";
    let li = message.client_msg_id ? chat.byKey.get(message.client_msg_id) : null;
    if (li) {
      li.classList.remove("pending");
      chat.nodes.splice(chat.nodes.indexOf(li), 1);
      li.remove();
    } else {
      li = this.li(message.body, mine);
    }
    li.dataset.id = message.id;
    li.dataset.at = message.created_at;
    fill(li, { time: time(message.created_at), status: mine ? "Terkirim" : "" });
    chat.byKey.set(message.id, li);
    if (message.client_msg_id) chat.byKey.set(message.client_msg_id, li);
    this.insert(chat, li);
    if (mine) return;
    chat.typingUntil = 0;
    if (chat.id === this.openId) text($("#typing"), "");
    const seen = chat.id === this.openId && document.visibilityState === "visible" && this.ctx.isChatVisible();
    if (seen) {
      this.markRead(chat);
    } else if (!quiet) {
      chat.unread += 1;
      this.renderRow(chat);
      this.ctx.attention.nudge({ key: `chat:${chat.id}`, title: `Pesan baru dari ${chat.name}`, body: "Ketuk untuk membaca." });
    }
  }

  addPending(chat, clientMsgId, body) {
    if (chat.byKey.has(clientMsgId)) return;
    const li = this.li(body, true);
    li.classList.add("pending");
    fill(li, { time: "", status: "Mengirim…" });
    chat.byKey.set(clientMsgId, li);
    this.insert(chat, li);
  }

  send() {
    const chat = this.current;
    const body = this.input.value.trim();
    if (!chat || !chat.active || !body) return;
    const id = this.ctx.rt.sendChat(chat.id, body);
    this.addPending(chat, id, body);
    this.input.value = "";
    chat.draft = "";
    // The message hid "sedang mengetik…" on the other side; the next keystroke says it again.
    chat.lastTypingSent = 0;
    this.input.focus();
  }

  typing() {
    const chat = this.current;
    if (!chat || !chat.active || !this.input.value) return;
    const now = Date.now();
    if (now - chat.lastTypingSent < TYPING_EVERY_MS) return;
    chat.lastTypingSent = now;
    this.ctx.rt.raw({ type: "chat.typing", chat_session_id: chat.id });
  }

  markRead(chat) {
    if (chat.unread) {
      chat.unread = 0;
      this.renderRow(chat);
    }
    this.ctx.attention.resolve(`chat:${chat.id}`);
    const theirs = chat.nodes.filter((n) => !n.classList.contains("mine") && n.dataset.id);
    const last = theirs[theirs.length - 1];
    if (!last || last.dataset.id === chat.lastReadSent || !chat.active) return;
    if (this.ctx.rt.raw({ type: "chat.read", chat_session_id: chat.id, up_to_message_id: last.dataset.id })) {
      chat.lastReadSent = last.dataset.id;
    }
  }

  nearBottom() {
    const m = this.scroller;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // ── the open chat ──────────────────────────────────────────────────────

  open(id) {
    const chat = this.chats.get(id);
    if (!chat) return;
    const previous = this.current;
    if (previous) previous.draft = this.input.value;
    this.openId = id;
    this.renderOpen();
    for (const c of this.chats.values()) this.renderRow(c);
    this.ctx.setView("chat");
    this.markRead(chat);
    if (chat.active) this.input.focus({ preventScroll: true });
  }

  /** Back to the list (on a phone the list replaces the chat). */
  closeView() {
    const chat = this.current;
    if (chat) chat.draft = this.input.value;
    this.ctx.setView("list");
  }

  renderOpen() {
    const chat = this.current;
    show(this.placeholder, !chat);
    show(this.pane, Boolean(chat));
    if (!chat) return;
    fill(this.pane, { "chat-name": chat.name });
    this.messages.replaceChildren(...chat.nodes);
    this.scrollToEnd();
    this.input.value = chat.draft;
    text($("#typing"), chat.typingUntil > Date.now() ? `${chat.name} sedang mengetik…` : "");
    this.renderBanner(chat);
    this.renderExtension(chat);
    this.renderEnded(chat);
    this.tick();
  }

  renderEnded(chat) {
    show(this.form, chat.active);
    show($("#chat-ended"), !chat.active);
  }

  say(chat, message, ok = false) {
    chat.banner = { text: message, ok };
    if (chat.id === this.openId) this.renderBanner(chat);
  }

  renderBanner(chat) {
    show(this.banner, Boolean(chat.banner));
    if (!chat.banner) return;
    this.banner.textContent = chat.banner.text;
    this.banner.classList.toggle("is-ok", chat.banner.ok);
  }

  markEnded(chat) {
    if (!chat.active) return;
    chat.active = false;
    chat.banner = null;
    this.setExtension(chat, null);
    this.ctx.rt.dropPending(chat.id);
    for (const li of chat.nodes.filter((n) => n.classList.contains("pending"))) {
      chat.nodes.splice(chat.nodes.indexOf(li), 1);
      li.remove();
    }
    this.renderRow(chat);
    if (chat.id === this.openId) this.renderOpen();
    this.ctx.onCountsChanged();
  }

  /** "Tutup chat" on an ended chat: it leaves the list (it stays in the history). */
  dismiss(id) {
    const chat = this.chats.get(id);
    if (!chat) return;
    chat.row?.remove();
    this.chats.delete(id);
    if (this.openId === id) {
      this.openId = null;
      this.renderOpen();
      this.ctx.setView("list");
    }
    this.renderEmpty();
  }

  renderEmpty() {
    show($("#chats-empty"), this.chats.size === 0);
  }

  // ── the extension card ─────────────────────────────────────────────────

  setExtension(chat, extension) {
    if (chat.extension && (!extension || extension.id !== chat.extension.id)) {
      this.ctx.attention.resolve(`extension:${chat.extension.id}`);
    }
    chat.extension = extension;
    if (extension) chat.extensionMinutes.set(extension.id, extension.minutes);
    this.renderRow(chat);
    if (chat.id === this.openId) this.renderExtension(chat);
  }

  renderExtension(chat) {
    this.stopExt?.();
    this.stopExt = null;
    clearTimeout(this.extLate);
    const ext = chat.extension;
    show(this.extCard, Boolean(ext));
    if (!ext) return;
    const settings = this.ctx.settings();
    fill(this.extCard, {
      "ext-minutes": minutes(ext.minutes),
      "ext-copy": extensionCopy(settings?.extension_timeout_seconds ?? 10, ext.defaultAction),
    });
    const buttons = this.extCard.querySelectorAll("button");
    for (const button of buttons) button.disabled = false;
    const display = $("#ext-countdown");
    this.stopExt = clock.countdown(
      ext.expiresAt,
      (left) => text(display, String(left)),
      () => {
        for (const button of buttons) button.disabled = true;
        // The server answers for the listener now; if its event was lost, read the chat again.
        this.extLate = setTimeout(() => this.load(chat.id), LATE_MS);
      },
    );
  }

  async answerExtension(action) {
    const chat = this.current;
    const ext = chat?.extension;
    if (!ext) return;
    for (const button of this.extCard.querySelectorAll("button")) button.disabled = true;
    try {
      await this.ctx.api.post(`/api/mitra/extension-requests/${ext.id}/respond`, { action });
      // EXTENSION_APPROVED / _REJECTED update the chat; this keeps the card from lingering if it is late.
      if (chat.extension?.id === ext.id) this.setExtension(chat, null);
    } catch (error) {
      this.ctx.toast(error.code === "extension_resolved" ? "Perpanjangan sudah diputuskan." : this.ctx.errorText(error));
      await this.load(chat.id);
    }
  }

  // ── the list ───────────────────────────────────────────────────────────

  renderRow(chat) {
    const row = chat.row;
    if (!row) return;
    const button = row.querySelector("button");
    button.classList.toggle("is-open", chat.id === this.openId);
    button.classList.toggle("is-ended", !chat.active);
    if (chat.id === this.openId) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
    const unread = row.querySelector('[data-field="unread"]');
    text(unread, chat.unread ? `${chat.unread} pesan baru` : "");
    show(unread, chat.unread > 0);
    show(row.querySelector('[data-field="ext"]'), Boolean(chat.extension));
    fill(row, { state: chat.active ? "Sisa" : "Selesai" });
    this.tickRow(chat);
  }

  tickRow(chat) {
    const left = chat.row?.querySelector('[data-field="left"]');
    if (left) text(left, chat.active ? countdown(clock.secondsUntil(chat.endsAt)) : "");
  }

  tick() {
    for (const chat of this.chats.values()) {
      this.tickRow(chat);
      if (chat.id === this.openId && chat.typingUntil && chat.typingUntil <= Date.now()) {
        chat.typingUntil = 0;
        text($("#typing"), "");
      }
    }
    const chat = this.current;
    if (chat) text($("#chat-countdown"), countdown(chat.active ? clock.secondsUntil(chat.endsAt) : 0));
  }
}
