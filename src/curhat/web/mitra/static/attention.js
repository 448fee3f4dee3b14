// Getting the listener's attention: a request lasts 20–60 s, so one missed glance loses it.
//
// Everything here degrades quietly: a browser without Web Audio, notifications, vibration or
// wake locks still shows the card; each channel is best effort and never throws to the caller.

const FLASH_MS = 1000;
const RING_EVERY_MS = 5000;

export class Attention {
  /**
   * @param {object} [env] the browser objects, replaceable in tests
   */
  constructor(env = {}) {
    this.win = env.window || window;
    this.doc = env.document || document;
    this.nav = env.navigator || navigator;
    this.baseTitle = this.doc.title;
    this.audio = null;
    this.flashTimer = null;
    this.ringTimer = null;
    this.wakeLock = null;
    this.wantWakeLock = false;
    this.notifications = new Map();
    this.pending = new Set(); // keys of what still waits for an answer
    this.onAudio = () => {};
    this.doc.addEventListener("visibilitychange", () => this.onVisibility());
    // After a reload nothing has been clicked yet, and audio stays locked until something is.
    const unlock = () => this.unlockAudio();
    this.doc.addEventListener("pointerdown", unlock, true);
    this.doc.addEventListener("keydown", unlock, true);
  }

  /** Whether this browser can synthesise a chime at all. */
  get canPlay() {
    return Boolean(this.win.AudioContext || this.win.webkitAudioContext);
  }

  /** True when a chime can actually be heard (the audio context is running). */
  get audioReady() {
    return Boolean(this.audio && this.audio.state === "running");
  }

  /** Create/resume the audio context; browsers only allow it from a user gesture (the Online switch). */
  unlockAudio() {
    const Ctx = this.win.AudioContext || this.win.webkitAudioContext;
    if (!Ctx) return;
    try {
      if (!this.audio) {
        this.audio = new Ctx();
        this.audio.addEventListener("statechange", () => this.onAudio(this.audioReady));
      }
      if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
    } catch {
      this.audio = null;
    }
  }

  /** Ask for notification permission once, from the gesture that takes the listener online. */
  async askPermission() {
    const N = this.win.Notification;
    if (!N || N.permission !== "default") return N ? N.permission : "unsupported";
    try {
      return await N.requestPermission();
    } catch {
      return "denied";
    }
  }

  get hidden() {
    return this.doc.visibilityState === "hidden";
  }

  /** A two-note chime synthesised on the spot (no audio file to fetch or cache). */
  chime() {
    const ctx = this.audio;
    if (!ctx || ctx.state !== "running") return false;
    const start = ctx.currentTime + 0.01;
    [
      [880, 0],
      [1318.5, 0.18],
    ].forEach(([freq, offset]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      const t = start + offset;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.3, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.45);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.5);
    });
    return true;
  }

  vibrate() {
    if (typeof this.nav.vibrate === "function") {
      try {
        this.nav.vibrate([200, 100, 200]);
      } catch {
        /* not allowed without a prior gesture: fine */
      }
    }
  }

  /**
   * Something needs an answer now (a request card, an extension card).
   * @param {{key: string, title: string, body: string}} what
   */
  alert({ key, title, body }) {
    this.pending.add(key);
    this.chime();
    this.vibrate();
    this.flash(title);
    if (this.hidden) this.notify(key, title, body);
    this.ring();
  }

  /** Something new but not urgent (a message in a chat not on screen): a chime, a notification if hidden. */
  nudge({ key, title, body }) {
    this.chime();
    if (this.hidden) this.notify(key, title, body);
  }

  /** A system notification, only when the tab is hidden (a visible tab already shows the card). */
  notify(key, title, body) {
    const N = this.win.Notification;
    if (!N || N.permission !== "granted") return;
    try {
      const n = new N(title, { body, tag: key, renotify: true, requireInteraction: true });
      n.onclick = () => {
        this.win.focus();
        n.close();
      };
      this.notifications.set(key, n);
    } catch {
      /* some mobile browsers only notify from a service worker */
    }
  }

  /** The thing behind `key` was answered or closed: its notification goes; silence if nothing waits. */
  resolve(key) {
    const n = this.notifications.get(key);
    if (n) {
      n.close();
      this.notifications.delete(key);
    }
    if (this.pending.delete(key) && this.pending.size === 0) this.quiet();
  }

  /** Keep chiming every few seconds while anything waits for an answer. */
  ring() {
    if (this.ringTimer) return;
    this.ringTimer = this.win.setInterval(() => {
      if (this.pending.size === 0) this.quiet();
      else this.chime();
    }, RING_EVERY_MS);
  }

  flash(message) {
    this.stopFlash();
    let on = true;
    this.doc.title = message;
    this.flashTimer = this.win.setInterval(() => {
      on = !on;
      this.doc.title = on ? message : this.baseTitle;
    }, FLASH_MS);
  }

  stopFlash() {
    if (this.flashTimer) {
      this.win.clearInterval(this.flashTimer);
      this.flashTimer = null;
    }
    this.doc.title = this.baseTitle;
  }

  /** Nothing waits any more: silence every channel. */
  quiet() {
    this.pending.clear();
    this.stopFlash();
    if (this.ringTimer) {
      this.win.clearInterval(this.ringTimer);
      this.ringTimer = null;
    }
    for (const n of this.notifications.values()) n.close();
    this.notifications.clear();
  }

  /** Hold a screen wake lock while online, so a phone does not sleep the socket away. */
  async keepAwake(on) {
    this.wantWakeLock = on;
    if (on) await this.acquireWakeLock();
    else if (this.wakeLock) {
      const lock = this.wakeLock;
      this.wakeLock = null;
      await lock.release().catch(() => {});
    }
  }

  async acquireWakeLock() {
    if (!this.nav.wakeLock || this.wakeLock || this.hidden) return;
    try {
      this.wakeLock = await this.nav.wakeLock.request("screen");
      this.wakeLock.addEventListener("release", () => {
        this.wakeLock = null;
      });
    } catch {
      this.wakeLock = null;
    }
  }

  onVisibility() {
    // A wake lock is released whenever the page is hidden; take it again on return.
    if (!this.hidden && this.wantWakeLock) this.acquireWakeLock();
  }
}
