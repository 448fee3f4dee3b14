// Rupiah, durations and times, the way Indonesian readers expect them.

export function rupiah(amount) {
  const digits = String(Math.round(Math.abs(amount)));
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  return `${amount < 0 ? "-" : ""}Rp ${grouped}`;
}

// "Gratis" for a free trial, else "Rp 15.000".
export function price(amount, isFreeTrial) {
  return isFreeTrial || amount === 0 ? "Gratis" : rupiah(amount);
}

export function minutes(n) {
  return `${n} menit`;
}

// 75 → "01:15"; 3725 → "1:02:05".
export function countdown(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${String(m).padStart(2, "0")}:${rest}`;
}

const TIME = new Intl.DateTimeFormat("id-ID", { hour: "2-digit", minute: "2-digit" });
const DATE = new Intl.DateTimeFormat("id-ID", { day: "numeric", month: "short", year: "numeric" });

export function time(iso) {
  return TIME.format(new Date(iso));
}

export function date(iso) {
  return DATE.format(new Date(iso));
}
