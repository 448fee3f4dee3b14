// The mitra app (docs/mitra-app.md).
//
// Screens: loading → home (figures, the chat list and the open chat) ⇄ history. Over every
// screen: the "Online" switch and the incoming request cards. The server is the source of
// truth: after every (re)connect resync() re-reads who we are, the open offers, the active
// chats with their messages and pending extensions, and today's figures.

import { Api, TokenStore, errorText } from "/static/js/api.js";
import { Realtime } from "/static/js/ws.js";
import { Store } from "/static/js/store.js";
import { $, $$, fill, show, text, toast } from "/static/js/dom.js";
import { Attention } from "./attention.js";
import { RequestCards } from "./requests.js";
import { Chats } from "./chats.js";
import { History } from "./history.js";
import { OnlineSwitch } from "./online.js";

const REFRESH_MS = 60000;

const tokens = new TokenStore("curhat.mitra.token");
const api = new Api({ tokens, loginUrl: "/mitra/login" });
const rt = new Realtime({ tokens, onUnauthorized: () => api.toLogin() });
const attention = new Attention();
const store = new Store({ screen: "loading", view: "list", me: null, settings: null });
const main = $("#main");

const ctx = {
  api,
  rt,
  attention,
  toast,
  errorText,
  resync,
  settings: () => store.get().settings,
  setView,
  isChatVisible,
  onCountsChanged: () => refreshFigures(),
  onAccepted: async (chatSessionId) => {
    await chats.load(chatSessionId);
    if (store.get().screen !== "home") go("home");
    chats.open(chatSessionId);
  },
  onChange: () => {},
};
const online = new OnlineSwitch(ctx);
const requests = new RequestCards(ctx);
const chats = new Chats(ctx);
const history = new History(ctx);

function go(screen) {
  const before = store.get().screen;
  store.set({ screen });
  main.dataset.state = screen;
  for (const section of $$("[data-screen]")) show(section, section.dataset.screen === screen);
  if (screen === "history") history.reload();
  if (screen !== before && before !== "loading") {
    document.querySelector(`[data-screen="${screen}"] .screen`)?.focus({ preventScroll: true });
  }
}

// "list" or "chat": on a phone only one of them is on screen, on a wide screen both are.
function setView(view) {
  store.set({ view });
  main.dataset.view = view;
  if (view === "list") $("#home-title").closest(".screen")?.focus({ preventScroll: true });
}

function isChatVisible() {
  const pane = $("#chat-open");
  return store.get().screen === "home" && !pane.hidden && pane.getClientRects().length > 0;
}

function renderMe(me) {
  store.set({ me });
  fill(document.body, { "me-name": me.display_name });
  text($("#capacity"), `${me.active_sessions} dari ${me.capacity}`);
  online.fromMe(me);
}

let figuresTimer = null;

// Many changes come in bursts (a resync loads every chat): read the figures once after them.
function refreshFigures() {
  clearTimeout(figuresTimer);
  figuresTimer = setTimeout(readFigures, 200);
}

async function readFigures() {
  try {
    const offset = -new Date().getTimezoneOffset();
    const [me, today] = await Promise.all([
      api.get("/api/mitra/me"),
      api.get(`/api/mitra/today?utc_offset_minutes=${offset}`),
    ]);
    renderMe(me);
    text($("#today-chats"), String(today.chats));
    text($("#today-minutes"), String(today.minutes));
  } catch {
    /* figures are a convenience; the next refresh tries again */
  }
}

let resyncing = null;

async function resync() {
  if (resyncing) return resyncing;
  resyncing = (async () => {
    try {
      const [settings, offers] = await Promise.all([
        api.get("/api/mitra/settings"),
        api.get("/api/mitra/pairing-requests"),
      ]);
      store.set({ settings });
      requests.sync(offers.rows);
      await Promise.all([chats.resync(), readFigures()]);
    } catch (error) {
      if (error.status !== 401) toast(errorText(error));
    }
  })();
  try {
    await resyncing;
  } finally {
    resyncing = null;
  }
}

async function logout() {
  try {
    if (rt.isOpen) await api.post("/api/mitra/status", { online: false });
  } catch {
    /* closing the socket takes us offline anyway */
  }
  online.wish.clear();
  attention.quiet();
  rt.stop();
  api.toLogin();
}

function start() {
  if (!tokens.get()) {
    location.replace("/mitra/login");
    return;
  }
  for (const button of $$("[data-action]")) {
    const action = button.dataset.action;
    if (action === "history") button.addEventListener("click", () => go("history"));
    if (action === "home") button.addEventListener("click", () => go("home"));
    if (action === "list") button.addEventListener("click", () => chats.closeView());
    if (action === "logout") button.addEventListener("click", logout);
  }
  rt.on("open", () => {
    online.onSocketOpen();
    resync();
  });
  rt.on("PAIRING_REQUEST", (data) => requests.add(data));
  rt.on("PAIRING_REQUEST_CLOSED", (data) => requests.close(data.pairing_request_id, data.reason));
  rt.on("CHAT_SESSION_STARTED", () => refreshFigures());
  rt.on("CHAT_SESSION_ENDED", () => refreshFigures());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refreshFigures();
  });
  setInterval(() => {
    if (document.visibilityState === "visible") refreshFigures();
  }, REFRESH_MS);
  online.render();
  api
    .get("/api/mitra/me")
    .then((me) => {
      renderMe(me);
      go("home");
    })
    .catch(() => go("home"));
  rt.start();
}

start();
