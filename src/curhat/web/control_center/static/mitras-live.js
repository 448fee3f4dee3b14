// Live online state and sessions on the Mitras page. Sets text and attributes only:
// the markup comes from the server's template (the page's CSP enforces Trusted Types).
const PERIOD_MS = 5000;

const table = document.querySelector("table[data-live-src]");
const onlineNow = document.querySelector('[data-live="online-now"]');
const stamp = document.querySelector('[data-live="stamp"]');

function rowsById() {
  const map = new Map();
  for (const tr of table.querySelectorAll("tr[data-mitra-id]")) map.set(tr.dataset.mitraId, tr);
  return map;
}

function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

async function refresh() {
  let body;
  try {
    const response = await fetch(table.dataset.liveSrc, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      setText(stamp, `Live refresh paused (HTTP ${response.status}); reload the page.`);
      return;
    }
    body = await response.json();
  } catch {
    setText(stamp, "Live refresh paused (no connection); retrying.");
    return;
  }
  const rows = rowsById();
  for (const row of body.rows) {
    const tr = rows.get(row.id);
    if (!tr) continue;
    const presence = tr.querySelector('[data-field="online"]');
    presence.dataset.online = row.online ? "yes" : "no";
    setText(presence, row.online ? "Online" : "Offline");
    setText(tr.querySelector('[data-field="sessions"]'), String(row.active_sessions));
    setText(tr.querySelector('[data-field="capacity"]'), String(row.capacity));
  }
  setText(onlineNow, String(body.online_now));
  setText(stamp, `Updated ${new Date().toLocaleTimeString()}; refreshes every 5 seconds.`);
}

if (table) {
  let timer = null;
  const start = () => {
    if (timer === null) timer = setInterval(refresh, PERIOD_MS);
  };
  const stop = () => {
    clearInterval(timer);
    timer = null;
  };
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      stop();
    } else {
      refresh();
      start();
    }
  });
  if (!document.hidden) start();
}
