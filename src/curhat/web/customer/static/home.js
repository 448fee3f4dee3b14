// Home: "Mulai Curhat", enabled only while a bestie is available. Polls the availability every
// 5 s while the home screen is shown and the page is visible; refreshes at once when the page
// becomes visible again; MITRA_AVAILABILITY pushes update it in between. Any failure = unavailable.

import { $, fill, show } from "/static/js/dom.js";

const POLL_MS = 5000;

export class Home {
  constructor(ctx) {
    this.ctx = ctx;
    this.timer = null;
    this.active = false;
    this.button = $("#start");
    this.status = $("#availability");
    this.button.addEventListener("click", () => ctx.go("paying", { target: null, from: "home" }));
    $("#refresh").addEventListener("click", () => this.poll());
    $("#resume-chat").addEventListener("click", () => {
      const chat = ctx.store.get().activeChat;
      if (chat) ctx.go("chatting", { chatSessionId: chat.id });
    });
    document.addEventListener("visibilitychange", () => this.schedule(true));
    ctx.store.subscribe((state, previous) => {
      if (state.availability !== previous.availability) this.show(state.availability);
      if (state.activeChat !== previous.activeChat) {
        show($("#resume"), Boolean(state.activeChat));
        fill($("#resume"), { "resume-name": state.activeChat?.name || "" });
      }
    });
  }

  render(state) {
    const active = state.name === "idle" && state.view === "home";
    if (active === this.active) return;
    this.active = active;
    this.schedule(active);
  }

  schedule(pollNow) {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.active || document.hidden) return;
    if (pollNow) this.poll();
    else this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  async poll() {
    clearTimeout(this.timer);
    let availability;
    try {
      const answer = await this.ctx.api.get("/api/client/mitra-availability");
      availability = { available: Boolean(answer.available), count: answer.count || 0 };
    } catch {
      availability = { available: false, count: 0 };
    }
    this.ctx.store.set({ availability });
    this.schedule(false);
  }

  show(availability) {
    this.button.disabled = !availability.available;
    this.status.classList.toggle("is-available", availability.available);
    this.status.textContent = availability.available
      ? `${availability.count} bestie siap mendengarkan`
      : "Belum ada bestie tersedia";
  }
}
