// Past sessions, newest first, a page at a time.

import { $, fill, fromTemplate, show } from "/static/js/dom.js";
import { date, minutes, time } from "/static/js/format.js";

const PAGE = 20;

const END_REASONS = {
  time_up: "Waktu habis",
  customer_ended: "Diakhiri pelanggan",
  mitra_ended: "Diakhiri bestie",
};

function spentMinutes(row) {
  const end = Date.parse(row.ended_at || row.ends_at);
  return Math.max(0, Math.round((end - Date.parse(row.started_at)) / 60000));
}

export class History {
  constructor(ctx) {
    this.ctx = ctx;
    this.list = $("#history-list");
    this.more = $("#history-more");
    this.loaded = 0;
    this.total = 0;
    this.more.addEventListener("click", () => this.page());
  }

  async reload() {
    this.list.replaceChildren();
    this.loaded = 0;
    this.total = 0;
    await this.page();
  }

  async page() {
    let answer;
    try {
      answer = await this.ctx.api.get(`/api/mitra/chat-sessions?status=ended&limit=${PAGE}&offset=${this.loaded}`);
    } catch (error) {
      this.ctx.toast(this.ctx.errorText(error));
      return;
    }
    for (const row of answer.rows) {
      const li = fromTemplate("tpl-history-row");
      fill(li, {
        name: row.customer?.display_name || "Pelanggan",
        date: `${date(row.started_at)}, ${time(row.started_at)}`,
        duration: `${minutes(spentMinutes(row))} dari ${minutes(row.duration_minutes)}`,
        reason: END_REASONS[row.end_reason] || "Selesai",
      });
      this.list.append(li);
    }
    this.loaded += answer.rows.length;
    this.total = answer.total;
    show($("#history-empty"), this.total === 0);
    show(this.more, this.loaded < this.total);
  }
}
