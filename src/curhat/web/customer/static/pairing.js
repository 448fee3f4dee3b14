// Searching, the targeted-waiting overlay, "bestie found", the failed-pairing screen and the
// "Bestie sedang tidak online" dialog: the pairing half of the state machine.

import { $, fill, openDialog, show } from "/static/js/dom.js";
import { clock } from "/static/js/clock.js";

const TARGETED = ["targeted_mitra_offline", "targeted_mitra_rejected", "targeted_mitra_timeout"];
const FOUND_MS = 1500; // "Bestie ditemukan!" stays this long before the chat opens
const LATE_MS = 5000; // no verdict this long after the window closed: ask the server

export class Pairing {
  constructor(ctx) {
    this.ctx = ctx;
    this.targetedDialog = $("#dlg-targeted");
    this.unavailableDialog = $("#dlg-unavailable");
    this.fallback = $("#fallback");
    this.closeTargeted = null;
    this.closeUnavailable = null;
    this.stopCountdown = null;
    this.lateTimer = null;
    this.foundTimer = null;

    $("#cancel-search").addEventListener("click", () => this.cancel());
    $("#cancel-targeted").addEventListener("click", () => this.cancel());
    $("#open-chat").addEventListener("click", () => this.openChat());
    this.fallback.addEventListener("click", () => this.fallbackToBlast());
    $("#unavailable-back").addEventListener("click", () => this.back());

    const { rt } = ctx;
    rt.on("PAIRING_MATCHED", (data) => {
      if (!this.mine(data.payment_session_id)) return;
      ctx.flow.clear();
      ctx.go("matched", { chatSessionId: data.chat_session_id, mitra: data.mitra });
    });
    rt.on("PAIRING_FAILED", (data) => {
      if (this.mine(data.payment_session_id)) this.failed(data.payment_session_id, data.cause_tag, this.ctx.store.get().target);
    });
    ctx.store.subscribe((state, previous) => {
      if (state.availability !== previous.availability && this.closeUnavailable) {
        show(this.fallback, state.availability.available);
      }
    });
  }

  // An event about the payment session this tab is pairing.
  mine(paymentSessionId) {
    const state = this.ctx.store.get();
    return (
      state.paymentSessionId === paymentSessionId &&
      ["searching", "targeted_waiting", "paying"].includes(state.name)
    );
  }

  render(state, previous) {
    const searching = state.name === "searching" || state.name === "targeted_waiting";
    clearTimeout(this.lateTimer);
    if (this.stopCountdown) this.stopCountdown();
    this.stopCountdown = null;
    if (searching && state.expiresAt) {
      this.stopCountdown = clock.countdown(
        state.expiresAt,
        (left) => ($("#targeted-countdown").textContent = String(left)),
        () => {
          this.lateTimer = setTimeout(() => this.ctx.resync(), LATE_MS);
        },
      );
    }
    if (state.name === "targeted_waiting") {
      fill(this.targetedDialog, { "target-name": state.target?.name || "bestie" });
      if (!this.closeTargeted) this.closeTargeted = openDialog(this.targetedDialog, { onCancel: () => this.cancel() });
    } else if (this.closeTargeted) {
      this.closeTargeted();
      this.closeTargeted = null;
    }
    if (state.name === "failed" && state.targeted) {
      show(this.fallback, state.availability.available);
      if (!this.closeUnavailable) this.closeUnavailable = openDialog(this.unavailableDialog, { onCancel: () => this.back() });
    } else if (this.closeUnavailable) {
      this.closeUnavailable();
      this.closeUnavailable = null;
    }
    clearTimeout(this.foundTimer);
    if (state.name === "matched") {
      fill(document.body, { "found-name": state.mitra?.display_name || "Bestie" });
      this.foundTimer = setTimeout(() => this.openChat(), FOUND_MS);
    }
  }

  // After confirming the payment: a general blast, or the targeted "Curhat lagi" request.
  async startSearch(paymentSessionId, target) {
    const { api, flow, go } = this.ctx;
    flow.set({ paymentSessionId, target });
    try {
      if (target) {
        const answer = await api.post("/api/client/chat-requests/returning", {
          payment_session_id: paymentSessionId,
          mitra_id: target.id,
        });
        go("targeted_waiting", {
          paymentSessionId,
          requestId: answer.pairing_request_id,
          expiresAt: answer.expires_at,
          target,
        });
      } else {
        const answer = await api.post("/api/client/chat-requests", { payment_session_id: paymentSessionId });
        go("searching", { paymentSessionId, requestId: answer.pairing_request_id, expiresAt: answer.expires_at, target });
      }
    } catch (error) {
      if (error.code === "targeted_mitra_offline") {
        await this.failed(paymentSessionId, error.code, target);
        return;
      }
      flow.clear();
      this.ctx.toast(this.ctx.errorText(error));
      go("idle", { view: "home" });
    }
  }

  async failed(paymentSessionId, cause, target) {
    const { flow, go, store } = this.ctx;
    if (cause === "customer_cancelled") {
      flow.clear();
      go("idle", { view: "home" });
      return;
    }
    if (!TARGETED.includes(cause)) {
      flow.clear();
      go("failed", { targeted: false, cause, paymentSessionId });
      return;
    }
    await this.refreshAvailability();
    const view = store.get().view || "home";
    go("failed", { targeted: true, cause, paymentSessionId, target, view });
  }

  async refreshAvailability() {
    try {
      const answer = await this.ctx.api.get("/api/client/mitra-availability");
      this.ctx.store.set({ availability: { available: Boolean(answer.available), count: answer.count || 0 } });
    } catch {
      this.ctx.store.set({ availability: { available: false, count: 0 } });
    }
  }

  async cancel() {
    const { api, flow, go, store } = this.ctx;
    const { paymentSessionId } = store.get();
    try {
      await api.post("/api/client/chat-requests/cancel", { payment_session_id: paymentSessionId });
      flow.clear();
      go("idle", { view: "home" });
    } catch (error) {
      // Already matched or failed: the server says which.
      await this.ctx.resync();
    }
  }

  async fallbackToBlast() {
    const { api, flow, go, store } = this.ctx;
    const { paymentSessionId } = store.get();
    this.fallback.disabled = true;
    try {
      const answer = await api.post(`/api/client/chat-requests/${paymentSessionId}/fallback-to-blast`);
      flow.set({ paymentSessionId, target: null });
      go("searching", {
        paymentSessionId,
        requestId: answer.pairing_request_id,
        expiresAt: answer.expires_at,
        target: null,
      });
    } catch (error) {
      this.ctx.toast(this.ctx.errorText(error));
    } finally {
      this.fallback.disabled = false;
    }
  }

  back() {
    this.ctx.flow.clear();
    this.ctx.go("idle", { view: this.ctx.store.get().view || "home" });
  }

  openChat() {
    clearTimeout(this.foundTimer);
    const state = this.ctx.store.get();
    if (state.name === "matched") this.ctx.go("chatting", { chatSessionId: state.chatSessionId });
  }
}
