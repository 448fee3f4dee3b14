// Countdowns from server times (expires_at, ends_at). The offset between this device's clock
// and the server's is learnt from event timestamps, so a phone whose clock is off still counts right.

export class ServerClock {
  constructor() {
    this.offsetMs = 0;
  }

  // An ISO timestamp the server just produced (a WebSocket event's "ts", a fresh created_at).
  observe(serverIso) {
    const server = Date.parse(serverIso);
    if (!Number.isNaN(server)) this.offsetMs = server - Date.now();
  }

  now() {
    return Date.now() + this.offsetMs;
  }

  secondsUntil(iso) {
    return Math.max(0, Math.ceil((Date.parse(iso) - this.now()) / 1000));
  }

  // Calls onTick(secondsLeft) now and every second until 0, then onDone(); returns a stop function.
  countdown(iso, onTick, onDone = () => {}) {
    let last = null;
    let timer = null;
    const tick = () => {
      const left = this.secondsUntil(iso);
      if (left !== last) {
        last = left;
        onTick(left);
      }
      if (left <= 0) {
        clearInterval(timer);
        timer = null;
        onDone();
      }
    };
    timer = setInterval(tick, 250);
    tick();
    return () => {
      if (timer !== null) clearInterval(timer);
      timer = null;
    };
  }
}

export const clock = new ServerClock();
