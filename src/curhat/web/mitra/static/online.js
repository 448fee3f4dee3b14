// The "Online" switch. It shows the server's view, not the listener's wish: online needs a live
// socket, and the server forgets the wish when the last socket closes. So the wish is kept for
// this tab (it survives a reload), posted again after every reconnect, and a failure is shown
// in words with a "Coba lagi" button instead of a switch that silently lies.

import { $, fill, show, text } from "/static/js/dom.js";
import { Saved } from "/static/js/store.js";

const RETRIES = 3;
const RETRY_MS = 1500;

const FAILURES = {
  not_connected: "Belum tersambung ke server, jadi kamu belum online.",
  mitra_inactive: "Akun bestie ini dinonaktifkan. Hubungi tim Curhat.",
};

export class OnlineSwitch {
  // ctx: {api, rt, attention, errorText, onChange(online)}
  constructor(ctx) {
    this.ctx = ctx;
    this.button = $("#online-switch");
    this.status = $("#online-status");
    this.errorBox = $("#online-error");
    this.wish = new Saved("curhat.mitra.online");
    this.serverOnline = false;
    this.busy = false;
    this.error = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.button.addEventListener("click", () => this.toggle());
    $("#online-retry").addEventListener("click", () => this.goOnline());
    $("#sound-on").addEventListener("click", () => {
      ctx.attention.unlockAudio();
      ctx.attention.chime();
    });
    ctx.attention.onAudio = () => this.render();
    ctx.rt.on("status", () => this.onSocketStatus());
  }

  get wanted() {
    return this.wish.get() === true;
  }

  toggle() {
    if (this.busy) return;
    if (this.serverOnline || this.wanted) this.goOffline();
    else this.goOnline();
  }

  goOnline() {
    // Both need the click that brought us here: audio playback and the permission prompt.
    this.ctx.attention.unlockAudio();
    this.ctx.attention.askPermission();
    this.wish.set(true);
    this.attempt = 0;
    this.post(true);
  }

  async goOffline() {
    this.wish.set(false);
    clearTimeout(this.retryTimer);
    await this.post(false);
  }

  /** The socket (re)opened: the server forgot the wish if it had no other socket; say it again. */
  onSocketOpen() {
    if (this.wanted) {
      this.attempt = 0;
      this.post(true);
    }
    this.render();
  }

  onSocketStatus() {
    if (this.ctx.rt.status !== "open" && this.serverOnline) {
      this.serverOnline = false; // the server takes us offline with the last socket
      this.ctx.attention.keepAwake(false);
      this.ctx.onChange(false);
    }
    this.button.disabled = false;
    this.render();
  }

  /** GET /api/mitra/me answered: that is the server's view. */
  fromMe(me) {
    if (this.busy) return;
    this.set(me.online);
    // The wish stands but the server says offline (e.g. a moment of no socket): heal it.
    if (this.wanted && !me.online && this.ctx.rt.isOpen && !this.error) this.post(true);
  }

  set(online) {
    const changed = online !== this.serverOnline;
    this.serverOnline = online;
    this.ctx.attention.keepAwake(online);
    if (changed) this.ctx.onChange(online);
    this.render();
  }

  async post(online) {
    clearTimeout(this.retryTimer);
    if (online && !this.ctx.rt.isOpen) {
      this.render(); // the "open" event posts it
      return;
    }
    this.busy = true;
    this.error = null;
    this.render();
    try {
      const answer = await this.ctx.api.post("/api/mitra/status", { online });
      this.busy = false;
      this.set(answer.online);
    } catch (error) {
      this.busy = false;
      if (online && error.code === "not_connected" && this.attempt < RETRIES) {
        // The socket may have dropped between our check and the server's: try again shortly.
        this.attempt += 1;
        this.retryTimer = setTimeout(() => this.post(true), RETRY_MS);
      } else if (online) {
        this.error = FAILURES[error.code] || `Gagal online: ${this.ctx.errorText(error)}`;
        if (error.code === "mitra_inactive") this.wish.set(false);
      } else {
        this.error = `Gagal offline: ${this.ctx.errorText(error)}`;
      }
      this.set(false);
    }
  }

  render() {
    this.button.setAttribute("aria-checked", String(this.serverOnline));
    this.button.setAttribute("aria-busy", String(this.busy));
    this.button.classList.toggle("is-pending", this.busy || (this.wanted && !this.serverOnline));
    const connected = this.ctx.rt.status === "open";
    let message;
    if (this.serverOnline) message = "Kamu online. Permintaan curhat akan muncul di sini.";
    else if (this.busy) message = "Menghubungkan…";
    else if (this.wanted && !connected) message = "Koneksi terputus. Menyambung ulang… Kamu offline sampai tersambung.";
    else if (this.wanted) message = "Kamu belum online.";
    else message = "Kamu offline. Nyalakan Online untuk menerima curhat.";
    text(this.status, message);
    this.status.classList.toggle("is-online", this.serverOnline);
    fill(this.errorBox, { "online-error": this.error || "" });
    show(this.errorBox, Boolean(this.error));
    // Online after a reload: nothing was clicked yet, so the browser keeps the chime muted.
    show($("#sound-hint"), this.serverOnline && !this.ctx.attention.audioReady && this.ctx.attention.canPlay);
  }
}
