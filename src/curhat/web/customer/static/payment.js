// The payment screen (mocked gateway): opening it creates a pending payment session for the
// chosen tier, "Bayar" ("Mulai" for a free trial) confirms it and starts the search, and leaving
// before confirming cancels it (on page unload too, with a keepalive request).

import { $, fill, fromTemplate, show } from "/static/js/dom.js";
import { minutes, price } from "/static/js/format.js";

export class Payment {
  constructor(ctx) {
    this.ctx = ctx;
    this.form = $("#payment-form");
    this.list = $("#tier-list");
    this.total = $("#total");
    this.pay = $("#pay");
    this.error = $("#payment-error");
    this.session = null; // the pending payment session on screen
    this.seq = 0;
    this.active = false;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.confirm();
    });
    $('[data-action="leave-payment"]').addEventListener("click", () => this.leave());
    window.addEventListener("pagehide", () => {
      if (this.active && this.session) this.ctx.api.beacon(`/api/client/payment-sessions/${this.session.id}/cancel`);
    });
  }

  render(state, previous) {
    const active = state.name === "paying";
    if (active && previous.name !== "paying") this.open(state.target);
    if (!active) this.session = null;
    this.active = active;
  }

  async open(target) {
    this.session = null;
    this.seq += 1;
    show(this.error, false);
    show($("#payment-target"), Boolean(target));
    fill(this.form, { "target-name": target?.name || "" });
    this.list.replaceChildren();
    this.total.textContent = "—";
    this.pay.disabled = true;
    let pricing;
    try {
      pricing = await this.ctx.api.get("/api/client/pricing");
    } catch (error) {
      this.fail(error);
      return;
    }
    show($("#free-trial-note"), pricing.free_trial_eligible && pricing.tiers.some((t) => t.is_free_trial));
    pricing.tiers.forEach((tier, i) => {
      const choice = fromTemplate("tpl-tier");
      fill(choice, { duration: minutes(tier.duration_minutes), price: price(tier.amount, tier.is_free_trial) });
      const radio = choice.querySelector("input");
      radio.value = tier.id;
      radio.checked = i === 0;
      radio.addEventListener("change", () => this.choose(tier, target));
      this.list.append(choice);
    });
    if (pricing.tiers.length) await this.choose(pricing.tiers[0], target);
  }

  // A tier was picked: the previous pending session is cancelled and a new one made for this tier.
  async choose(tier, target) {
    const seq = ++this.seq;
    this.showTotal(tier.amount, tier.is_free_trial);
    this.pay.disabled = true;
    this.cancelPending();
    const body = { duration_minutes: tier.duration_minutes, tier_id: tier.id };
    if (target) body.targeted_mitra_id = target.id;
    try {
      const session = await this.ctx.api.create("/api/client/payment-sessions", body);
      if (seq !== this.seq || !this.active) {
        this.ctx.api.post(`/api/client/payment-sessions/${session.id}/cancel`).catch(() => {});
        return;
      }
      this.session = session;
      this.ctx.flow.set({ paymentSessionId: session.id, target });
      this.showTotal(session.amount, session.is_free_trial);
      this.pay.disabled = false;
    } catch (error) {
      if (seq === this.seq) this.fail(error);
    }
  }

  showTotal(amount, isFreeTrial) {
    this.total.textContent = price(amount, isFreeTrial);
    this.pay.textContent = isFreeTrial ? "Mulai" : "Bayar";
  }

  cancelPending() {
    if (!this.session) return;
    const id = this.session.id;
    this.session = null;
    this.ctx.flow.clear();
    this.ctx.api.post(`/api/client/payment-sessions/${id}/cancel`).catch(() => {});
  }

  async confirm() {
    const session = this.session;
    if (!session) return;
    this.pay.disabled = true;
    const target = this.ctx.store.get().target;
    try {
      await this.ctx.api.post(`/api/client/payment-sessions/${session.id}/confirm`);
    } catch (error) {
      this.fail(error);
      this.pay.disabled = false;
      return;
    }
    this.session = null; // confirmed: leaving no longer cancels it
    await this.ctx.pairing.startSearch(session.id, target);
  }

  leave() {
    this.cancelPending();
    const from = this.ctx.store.get().from || "home";
    this.ctx.go("idle", { view: from });
  }

  fail(error) {
    this.error.textContent = this.ctx.errorText(error);
    show(this.error, true);
  }
}
