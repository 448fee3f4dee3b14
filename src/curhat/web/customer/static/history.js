// Chat history: past sessions, newest first, each with "Curhat lagi" (a targeted, returning chat).

import { $, fill, fromTemplate, show } from "/static/js/dom.js";
import { date, minutes } from "/static/js/format.js";

const PAGE = 20;

export class History {
  constructor(ctx) {
    this.ctx = ctx;
    this.list = $("#history-list");
    this.more = $("#history-more");
    this.offset = 0;
    this.active = false;
    this.more.addEventListener("click", () => this.load(false));
  }

  render(state) {
    const active = state.name === "idle" && state.view === "history";
    if (active && !this.active) this.load(true);
    this.active = active;
  }

  async load(fresh) {
    if (fresh) this.offset = 0;
    let page;
    try {
      page = await this.ctx.api.get(`/api/client/chat-sessions?limit=${PAGE}&offset=${this.offset}`);
    } catch (error) {
      this.ctx.toast(this.ctx.errorText(error));
      return;
    }
    if (fresh) this.list.replaceChildren();
    for (const row of page.rows) this.list.append(this.row(row));
    this.offset += page.rows.length;
    show($("#history-empty"), this.offset === 0);
    show(this.more, this.offset < page.total);
  }

  row(chat) {
    const li = fromTemplate("tpl-history-row");
    const name = chat.mitra?.display_name || "Bestie";
    fill(li, { name, date: date(chat.started_at), duration: minutes(chat.duration_minutes) });
    const again = li.querySelector('[data-action="again"]');
    again.setAttribute("aria-label", `Curhat lagi dengan ${name}`);
    again.addEventListener("click", () =>
      this.ctx.go("paying", { target: { id: chat.mitra.id, name }, from: "history" }),
    );
    return li;
  }
}
