// Incoming request cards: a blast ("Rani ingin curhat") or a returning one ("Rani ingin curhat lagi
// denganmu"), each with the seconds left from the server's expires_at.
//
// The server decides when a request closes: a card goes away on PAIRING_REQUEST_CLOSED, on an
// answer, or when GET /api/mitra/pairing-requests (read after every reconnect) no longer lists it.
// At 0 the card stops taking answers and, as a backstop for a lost event, asks the server again.

import { fill, fromTemplate, show, text } from "/static/js/dom.js";
import { minutes } from "/static/js/format.js";
import { clock } from "/static/js/clock.js";

const CLOSED_REASONS = {
  taken: "Permintaan sudah diterima bestie lain.",
  cancelled: "Pelanggan membatalkan permintaan.",
  expired: "Waktu permintaan habis.",
  failed: "Permintaan ditutup.",
};

const ANSWER_ERRORS = {
  already_taken: "Permintaan sudah diterima bestie lain.",
  request_closed: "Permintaan sudah ditutup.",
  at_capacity: "Kamu sudah mencapai batas chat bersamaan.",
  pairing_request_not_found: "Permintaan sudah tidak berlaku.",
};

export function requestTitle(offer) {
  const name = offer.customer?.display_name || "Pelanggan";
  return offer.request_type === "returning" ? `${name} ingin curhat lagi denganmu` : `${name} ingin curhat`;
}

export class RequestCards {
  // ctx: {api, toast, errorText, attention, onAccepted(chatSessionId, offer), resync()}
  constructor(ctx) {
    this.ctx = ctx;
    this.region = document.getElementById("requests");
    this.announcer = document.getElementById("request-announcer");
    this.cards = new Map(); // pairing_request_id → {offer, el, stop, busy}
  }

  get size() {
    return this.cards.size;
  }

  has(id) {
    return this.cards.has(id);
  }

  /** A PAIRING_REQUEST event, or a row of GET /api/mitra/pairing-requests. */
  add(offer) {
    const id = offer.pairing_request_id;
    if (this.cards.has(id) || clock.secondsUntil(offer.expires_at) <= 0) return;
    const el = fromTemplate("tpl-request");
    const titleId = `request-${id}`;
    el.dataset.requestId = id;
    el.dataset.type = offer.request_type;
    el.classList.toggle("is-returning", offer.request_type === "returning");
    el.setAttribute("aria-labelledby", titleId);
    el.querySelector(".request-title").id = titleId;
    const title = requestTitle(offer);
    fill(el, {
      kind: offer.request_type === "returning" ? "Curhat lagi" : "Permintaan curhat baru",
      title,
      duration: minutes(offer.duration_minutes),
    });
    const card = { offer, el, stop: null, busy: false };
    el.querySelector('[data-action="accept"]').addEventListener("click", () => this.answer(card, "accept"));
    el.querySelector('[data-action="reject"]').addEventListener("click", () => this.answer(card, "reject"));
    const left = el.querySelector('[data-field="left-text"]');
    card.stop = clock.countdown(
      offer.expires_at,
      (seconds) => text(left, seconds > 0 ? `${seconds} detik lagi` : "Waktu habis"),
      () => this.expired(card),
    );
    this.cards.set(id, card);
    this.region.append(el);
    show(this.region, true);
    text(this.announcer, `${title}. ${minutes(offer.duration_minutes)}.`);
    this.ctx.attention.alert({ key: `request:${id}`, title, body: `${minutes(offer.duration_minutes)} · ketuk untuk menjawab` });
  }

  /** PAIRING_REQUEST_CLOSED: the server closed it (taken, cancelled, expired, failed). */
  close(id, reason) {
    const card = this.cards.get(id);
    if (!card) return;
    this.remove(id);
    if (!card.busy && CLOSED_REASONS[reason] && reason !== "expired") this.ctx.toast(CLOSED_REASONS[reason]);
  }

  remove(id) {
    const card = this.cards.get(id);
    if (!card) return;
    card.stop?.();
    card.el.remove();
    this.cards.delete(id);
    this.ctx.attention.resolve(`request:${id}`);
    if (this.cards.size === 0) {
      show(this.region, false);
      text(this.announcer, "");
    }
  }

  /** The open offers as the server lists them now (after a reconnect): add new, drop stale. */
  sync(rows) {
    const open = new Set(rows.map((r) => r.pairing_request_id));
    for (const id of [...this.cards.keys()]) if (!open.has(id)) this.remove(id);
    for (const row of rows) this.add(row);
  }

  clear() {
    for (const id of [...this.cards.keys()]) this.remove(id);
  }

  expired(card) {
    for (const button of card.el.querySelectorAll("button")) button.disabled = true;
    card.el.classList.add("is-expired");
    // The server closes it within a moment; if that event was lost, the list read settles it.
    setTimeout(() => {
      if (this.cards.get(card.offer.pairing_request_id) === card) this.ctx.resync();
    }, 3000);
  }

  async answer(card, action) {
    if (card.busy) return;
    card.busy = true;
    for (const button of card.el.querySelectorAll("button")) button.disabled = true;
    const id = card.offer.pairing_request_id;
    try {
      const result = await this.ctx.api.post(`/api/mitra/pairing-requests/${id}/respond`, { action });
      this.remove(id);
      if (action === "accept" && result.chat_session_id) this.ctx.onAccepted(result.chat_session_id, card.offer);
    } catch (error) {
      this.ctx.toast(ANSWER_ERRORS[error.code] || this.ctx.errorText(error));
      if (error.status === 0 && clock.secondsUntil(card.offer.expires_at) > 0) {
        // No answer reached the server: the request is still open, let the listener try again.
        card.busy = false;
        for (const button of card.el.querySelectorAll("button")) button.disabled = false;
        return;
      }
      this.remove(id);
    }
  }
}
