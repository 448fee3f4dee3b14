// The chat: history, live messages both ways, the countdown to ends_at, the ending warning,
// ending early, and the extension picker (pay, then ask the bestie; approved or rejected).

import { $, fill, fromTemplate, openDialog, show, text } from "/static/js/dom.js";
import { countdown, minutes, price, time } from "/static/js/format.js";
import { clock } from "/static/js/clock.js";

const LATE_MS = 5000;
const TYPING_EVERY_MS = 2000; // chat.typing at most this often
const TYPING_SHOWN_MS = 4000; // "sedang mengetik…" fades this long after the last CHAT_TYPING

// Server times as numbers (ISO strings do not sort when one has microseconds and another not).
function at(iso) {
  return Date.parse(iso);
}

function inWords(seconds) {
  return seconds >= 60 ? `${Math.round(seconds / 60)} menit` : `${seconds} detik`;
}

export class Chat {
  constructor(ctx) {
    this.ctx = ctx;
    this.id = null;
    this.ended = false;
    this.messages = $("#messages");
    this.scroller = $("#scroller");
    this.form = $("#composer");
    this.input = $("#message");
    this.banner = $("#chat-banner");
    this.stopCountdown = null;
    this.lateTimer = null;
    this.elements = new Map(); // message id or client_msg_id → <li>
    this.extension = null; // {id, minutes, expiresAt} while one waits for the bestie
    this.name = "Bestie";
    this.warnings = new Map(); // chat id → the ends_at a CHAT_SESSION_ENDING warned about
    this.endsAt = null;
    this.typing = $("#typing");
    this.typingSentAt = 0;
    this.typingTimer = null;
    this.readSent = null; // the last up_to_message_id this side reported
    this.theirRead = null; // how far the bestie has read (CHAT_READ / mitra_read_up_to)

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("input", () => this.sendTyping());
    document.addEventListener("visibilitychange", () => this.markRead());
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    $("#end-chat").addEventListener("click", () => this.askEnd());
    $("#extend").addEventListener("click", () => this.openExtension());
    this.extensionUi();

    const on = (type, handler) =>
      ctx.rt.on(type, (data) => {
        if (data.chat_session_id === this.id) handler(data);
      });
    on("CHAT_MESSAGE", (data) => {
      this.add(data.message);
      if (data.message.sender_role !== "customer") {
        this.showTyping(false);
        this.markRead();
      }
    });
    on("CHAT_TYPING", (data) => {
      if (data.sender_role !== "customer") this.showTyping(true);
    });
    on("CHAT_READ", (data) => {
      if (data.reader_role !== "customer") this.applyRead(data.up_to_message_id);
    });
    // The warning may come before the chat is on screen (right after the match): kept per chat.
    ctx.rt.on("CHAT_SESSION_ENDING", (data) => {
      this.warnings.set(data.chat_session_id, data.ends_at);
      if (data.chat_session_id === this.id) this.warn();
    });
    on("CHAT_SESSION_ENDED", () => this.end());
    on("EXTENSION_APPROVED", (data) => {
      const added = this.extension?.minutes;
      this.extension = null;
      this.closeExtensionDialog();
      this.setEndsAt(data.ends_at);
      this.say(added ? `Perpanjangan disetujui. Waktu ditambah ${minutes(added)}.` : "Perpanjangan disetujui.", true);
    });
    on("EXTENSION_REJECTED", () => {
      this.extension = null;
      this.closeExtensionDialog();
      this.say("Perpanjangan ditolak. Kamu tidak dikenai biaya.");
    });
  }

  render(state, previous) {
    const active = state.name === "chatting";
    if (active && (previous.name !== "chatting" || previous.chatSessionId !== state.chatSessionId)) {
      this.open(state.chatSessionId);
    }
    if (!active && this.id) this.close();
  }

  async open(id) {
    this.close();
    this.id = id;
    this.ended = false;
    this.readSent = null;
    this.theirRead = null;
    this.showTyping(false);
    this.messages.replaceChildren();
    this.elements.clear();
    show(this.banner, false);
    this.showEnded(false);
    await this.refresh();
    this.input.focus({ preventScroll: true });
  }

  close() {
    if (this.stopCountdown) this.stopCountdown();
    this.stopCountdown = null;
    clearTimeout(this.lateTimer);
    this.closeExtensionDialog();
    this.id = null;
  }

  // Re-read the chat from the server (on open and after every reconnect).
  async refresh() {
    const id = this.id;
    if (!id) return;
    const { api } = this.ctx;
    let detail;
    let page;
    try {
      [detail, page] = await Promise.all([
        api.get(`/api/client/chat-sessions/${id}`),
        api.get(`/api/client/chat-sessions/${id}/messages?limit=100`),
      ]);
    } catch (error) {
      this.ctx.toast(this.ctx.errorText(error));
      return;
    }
    if (id !== this.id) return;
    const name = detail.mitra?.display_name || "Bestie";
    this.name = name;
    fill(document.body, { "chat-name": name });
    if (detail.status === "active") this.ctx.store.set({ activeChat: { id, name } });
    for (const message of page.rows) this.add(message);
    for (const frame of this.ctx.rt.pending(id)) this.addPending(frame.client_msg_id, frame.body);
    if (detail.mitra_read_up_to) this.applyRead(detail.mitra_read_up_to);
    if (detail.pending_extension) {
      this.extension = {
        id: detail.pending_extension.extension_request_id,
        minutes: detail.pending_extension.duration_minutes,
        expiresAt: detail.pending_extension.expires_at,
      };
      this.say("Menunggu persetujuan bestie untuk perpanjangan…", true);
    }
    if (detail.status !== "active") this.end();
    else {
      this.setEndsAt(detail.ends_at);
      this.warn();
      this.markRead();
    }
  }

  warn() {
    const warnedFor = this.warnings.get(this.id);
    if (!warnedFor || at(warnedFor) !== at(this.endsAt) || this.ended) return;
    this.say(`Sesi akan berakhir dalam ${inWords(clock.secondsUntil(warnedFor))}.`);
  }

  setEndsAt(endsAt) {
    this.endsAt = endsAt;
    if (this.stopCountdown) this.stopCountdown();
    clearTimeout(this.lateTimer);
    const display = $("#chat-countdown");
    this.stopCountdown = clock.countdown(
      endsAt,
      (left) => text(display, countdown(left)),
      () => {
        // The server closes the session; if its event got lost, ask.
        this.lateTimer = setTimeout(() => this.ctx.resync(), LATE_MS);
      },
    );
  }

  say(message, ok = false) {
    this.banner.textContent = message;
    this.banner.classList.toggle("is-ok", ok);
    show(this.banner, true);
  }

  end() {
    if (this.ended) return;
    this.ended = true;
    if (this.ctx.store.get().activeChat?.id === this.id) this.ctx.store.set({ activeChat: null });
    if (this.stopCountdown) this.stopCountdown();
    this.stopCountdown = null;
    clearTimeout(this.lateTimer);
    text($("#chat-countdown"), countdown(0));
    this.closeExtensionDialog();
    this.ctx.rt.dropPending(this.id);
    for (const li of this.messages.querySelectorAll(".msg.pending")) li.remove();
    show(this.banner, false);
    this.showEnded(true);
  }

  showEnded(ended) {
    show(this.form, !ended);
    show($("#chat-ended"), ended);
    $("#extend").disabled = ended;
    $("#end-chat").disabled = ended;
  }

  // ── messages ────────────────────────────────────────────────
  li(body, mine) {
    const li = fromTemplate("tpl-message");
    li.classList.toggle("mine", mine);
    fill(li, { body });
    return li;
  }

  addPending(clientMsgId, body) {
    if (this.elements.has(clientMsgId)) return;
    const li = this.li(body, true);
    li.classList.add("pending");
    fill(li, { time: "", status: "Mengirim…" });
    this.elements.set(clientMsgId, li);
    this.append(li);
  }

  add(message) {
    if (this.elements.has(message.id)) return;
    const mine = message.sender_role === "customer";
    let li = message.client_msg_id ? this.elements.get(message.client_msg_id) : null;
    if (li) {
      li.classList.remove("pending");
      li.remove(); // re-inserted at its place in time
    } else {
      li = this.li(message.body, mine);
    }
    li.dataset.id = message.id;
    li.dataset.at = message.created_at;
    fill(li, { time: time(message.created_at), status: mine ? this.receipt(message.created_at) : "" });
    this.elements.set(message.id, li);
    if (message.client_msg_id) this.elements.set(message.client_msg_id, li);
    const later = [...this.messages.querySelectorAll(".msg[data-at]")].find((el) => at(el.dataset.at) > at(message.created_at));
    if (later) this.messages.insertBefore(li, later);
    else this.append(li, true);
  }

  append(li, beforePending = false) {
    const firstPending = beforePending ? this.messages.querySelector(".msg.pending") : null;
    const box = this.scroller;
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    if (firstPending) this.messages.insertBefore(li, firstPending);
    else this.messages.append(li);
    if (nearBottom || li.classList.contains("mine")) box.scrollTop = box.scrollHeight;
  }

  // ── typing indicator and read receipts ──────────────────────
  sendTyping() {
    const now = Date.now();
    if (this.ended || !this.id || !this.input.value.trim() || now - this.typingSentAt < TYPING_EVERY_MS) return;
    if (this.ctx.rt.raw({ type: "chat.typing", chat_session_id: this.id })) this.typingSentAt = now;
  }

  showTyping(on) {
    clearTimeout(this.typingTimer);
    this.typing.textContent = on ? `${this.name} sedang mengetik…` : "";
    if (on) this.typingTimer = setTimeout(() => this.showTyping(false), TYPING_SHOWN_MS);
  }

  // Tell the bestie how far this side has read: the newest of their messages, while the chat is on screen.
  markRead() {
    if (!this.id || this.ended || document.visibilityState !== "visible") return;
    const theirs = [...this.messages.querySelectorAll(".msg[data-id]:not(.mine)")];
    const last = theirs[theirs.length - 1];
    if (!last || last.dataset.id === this.readSent) return;
    const frame = { type: "chat.read", chat_session_id: this.id, up_to_message_id: last.dataset.id };
    if (this.ctx.rt.raw(frame)) this.readSent = last.dataset.id;
  }

  receipt(createdAt) {
    const read = this.theirRead && this.elements.get(this.theirRead);
    return read && at(read.dataset.at) >= at(createdAt) ? "Dibaca" : "Terkirim";
  }

  applyRead(messageId) {
    this.theirRead = messageId;
    const upTo = this.elements.get(messageId);
    if (!upTo) return;
    for (const li of this.messages.querySelectorAll(".msg.mine[data-at]")) {
      if (at(li.dataset.at) <= at(upTo.dataset.at)) fill(li, { status: "Dibaca" });
    }
  }

  async send() {
    const body = this.input.value.trim();
    if (!body || this.ended || !this.id) return;
    this.input.value = "";
    const id = this.id;
    const clientMsgId = this.ctx.rt.sendChat(id, body);
    this.addPending(clientMsgId, body);
    if (!this.ctx.rt.isOpen) {
      // The socket is down: deliver over HTTP now; the socket's resend later is stored only once.
      try {
        const message = await this.ctx.api.post(`/api/client/chat-sessions/${id}/messages`, {
          body,
          client_msg_id: clientMsgId,
        });
        this.ctx.rt.outbox.delete(clientMsgId);
        if (id === this.id) this.add(message);
      } catch (error) {
        if (error.code === "chat_session_ended") this.end();
      }
    }
  }

  // ── ending early ────────────────────────────────────────────
  askEnd() {
    const dialog = $("#dlg-end");
    const close = openDialog(dialog, { onCancel: () => close() });
    const confirm = $("#end-confirm");
    const cancel = $("#end-cancel");
    const done = () => {
      confirm.removeEventListener("click", yes);
      cancel.removeEventListener("click", no);
      close();
    };
    const yes = async () => {
      done();
      try {
        await this.ctx.api.post(`/api/client/chat-sessions/${this.id}/end`);
        this.end();
      } catch (error) {
        this.ctx.toast(this.ctx.errorText(error));
        await this.ctx.resync();
      }
    };
    const no = () => done();
    confirm.addEventListener("click", yes);
    cancel.addEventListener("click", no);
  }

  // ── extension ───────────────────────────────────────────────
  extensionUi() {
    this.extDialog = $("#dlg-extend");
    this.extForm = $("#extend-form");
    this.extPay = $("#extend-pay");
    this.extError = $("#extend-error");
    this.extTier = null;
    this.closeExt = null;
    this.stopExtCountdown = null;
    this.extForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.requestExtension();
    });
    $("#extend-cancel").addEventListener("click", () => this.closeExtensionDialog());
  }

  async openExtension() {
    if (this.closeExt || this.ended) return;
    show(this.extError, false);
    const waiting = Boolean(this.extension);
    show($("#extend-waiting"), waiting);
    $("#extend-tiers").disabled = waiting;
    this.extPay.disabled = true;
    this.closeExt = openDialog(this.extDialog, { onCancel: () => this.closeExtensionDialog() });
    if (waiting) {
      this.extensionCountdown();
      return;
    }
    const list = $("#extend-tier-list");
    list.replaceChildren();
    let pricing;
    try {
      pricing = await this.ctx.api.get("/api/client/pricing/extension");
    } catch (error) {
      this.extFail(error);
      return;
    }
    pricing.tiers.forEach((tier, i) => {
      const choice = fromTemplate("tpl-tier");
      fill(choice, { duration: `+${minutes(tier.duration_minutes)}`, price: price(tier.amount, false) });
      const radio = choice.querySelector("input");
      radio.name = "extension-tier";
      radio.value = tier.id;
      radio.checked = i === 0;
      radio.addEventListener("change", () => this.chooseExtension(tier));
      list.append(choice);
    });
    if (pricing.tiers.length) this.chooseExtension(pricing.tiers[0]);
  }

  chooseExtension(tier) {
    this.extTier = tier;
    text($("#extend-total"), price(tier.amount, false));
    this.extPay.disabled = false;
  }

  async requestExtension() {
    const tier = this.extTier;
    if (!tier || this.extension) return;
    const { api } = this.ctx;
    this.extPay.disabled = true;
    show(this.extError, false);
    try {
      const payment = await api.create("/api/client/payment-sessions", {
        duration_minutes: tier.duration_minutes,
        tier_id: tier.id,
        is_extension: true,
        chat_session_id: this.id,
      });
      await api.post(`/api/client/payment-sessions/${payment.id}/confirm`);
      const request = await api.post(`/api/client/chat-sessions/${this.id}/extensions`, {
        extension_payment_session_id: payment.id,
      });
      this.extension = { id: request.extension_request_id, minutes: request.duration_minutes, expiresAt: request.expires_at };
      $("#extend-tiers").disabled = true;
      show($("#extend-waiting"), true);
      this.extensionCountdown();
    } catch (error) {
      this.extFail(error);
      this.extPay.disabled = false;
    }
  }

  extensionCountdown() {
    if (this.stopExtCountdown) this.stopExtCountdown();
    const display = $("#extend-countdown");
    this.stopExtCountdown = clock.countdown(this.extension.expiresAt, (left) => text(display, `(${left} detik)`));
  }

  extFail(error) {
    this.extError.textContent = this.ctx.errorText(error);
    show(this.extError, true);
  }

  closeExtensionDialog() {
    if (this.stopExtCountdown) this.stopExtCountdown();
    this.stopExtCountdown = null;
    if (this.closeExt) this.closeExt();
    this.closeExt = null;
    this.extTier = null;
  }
}
