// The customer app: an explicit state machine (docs/web.md) over the REST API and the socket.
//
//   loading → idle ⇄ paying → searching → matched → chatting → idle
//                          ↘ targeted_waiting ↗
//   searching / targeted_waiting → failed (blast: terminal screen; targeted: "Bestie sedang
//   tidak online" dialog, with the fallback to a general blast)
//
// The server is the source of truth: on load and after every reconnect resync() re-reads the
// current state (an active chat, else the payment session in flight) and enters it.

import { Api, TokenStore, errorText } from "/static/js/api.js";
import { Realtime } from "/static/js/ws.js";
import { Saved, Store } from "/static/js/store.js";
import { $, $$, fill, show, toast } from "/static/js/dom.js";
import { Home } from "./home.js";
import { History } from "./history.js";
import { Payment } from "./payment.js";
import { Pairing } from "./pairing.js";
import { Chat } from "./chat.js";

const tokens = new TokenStore("curhat.customer.token");
const api = new Api({ tokens, loginUrl: "/login" });
const rt = new Realtime({ tokens, onUnauthorized: () => api.toLogin() });
// The payment session this tab is working on ({paymentSessionId, target}), kept across reloads.
const flow = new Saved("curhat.customer.flow");
const store = new Store({
  name: "loading",
  view: "home",
  me: null,
  availability: { available: false, count: 0 },
  activeChat: null,
});

// The named states and the screen each one shows.
const SCREENS = {
  loading: "loading",
  idle: null, // home or history (state.view)
  paying: "payment",
  searching: "searching",
  targeted_waiting: "searching",
  matched: "found",
  failed: null, // blast: the terminal screen; targeted: the dialog over home
  chatting: "chat",
};

const ctx = { api, rt, store, flow, go, resync, toast, errorText };
const screens = {
  home: new Home(ctx),
  history: new History(ctx),
  payment: new Payment(ctx),
  pairing: new Pairing(ctx),
  chat: new Chat(ctx),
};
ctx.pairing = screens.pairing;

function screenFor(state) {
  if (state.name === "idle") return state.view;
  if (state.name === "failed") return state.targeted ? state.view : "failed";
  return SCREENS[state.name];
}

// Enter a state: the only way the app changes what it shows.
function go(name, data = {}) {
  const previous = store.get();
  store.set({ targeted: false, ...data, name });
  const state = store.get();
  const screen = screenFor(state);
  const before = screenFor(previous);
  $("#main").dataset.state = name;
  for (const section of $$("[data-screen]")) show(section, section.dataset.screen === screen);
  for (const s of Object.values(screens)) s.render(state, previous);
  if (screen !== before) {
    // Move focus to the new screen's heading area so screen readers announce it.
    const target = document.querySelector(`[data-screen="${screen}"] .screen, [data-screen="${screen}"] h1`);
    target?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}

let resyncing = null;

// Re-read where this customer is from the server and enter that state.
async function resync() {
  if (resyncing) return resyncing;
  resyncing = (async () => {
    try {
      const chats = await api.get("/api/client/chat-sessions?limit=5");
      const active = chats.rows.find((row) => row.status === "active");
      const current = store.get();
      store.set({ activeChat: active ? { id: active.id, name: active.mitra?.display_name || "Bestie" } : null });
      if (active) {
        flow.clear();
        if (current.name !== "chatting" || current.chatSessionId !== active.id) {
          go("chatting", { chatSessionId: active.id });
        } else {
          await screens.chat.refresh();
        }
        return;
      }
      if (current.name === "chatting") {
        await screens.chat.refresh(); // it ended while we were away: the chat shows that
        return;
      }
      await resumeFlow();
    } catch (error) {
      if (error.status !== 401) toast(errorText(error));
      if (store.get().name === "loading") go("idle", { view: "home" });
    }
  })();
  try {
    await resyncing;
  } finally {
    resyncing = null;
  }
}

async function resumeFlow() {
  const saved = flow.get();
  const current = store.get();
  if (!saved) {
    if (["loading", "searching", "targeted_waiting"].includes(current.name)) go("idle", { view: "home" });
    return;
  }
  let payment;
  try {
    payment = await api.get(`/api/client/payment-sessions/${saved.paymentSessionId}`);
  } catch (error) {
    if (error.status === 404) {
      flow.clear();
      go("idle", { view: "home" });
      return;
    }
    throw error;
  }
  const pairing = payment.pairing;
  const target = saved.target || null;
  if (payment.status === "pending") {
    if (current.name === "paying") return;
    // A payment screen left by a reload: it is abandoned, as leaving the screen would.
    api.post(`/api/client/payment-sessions/${payment.id}/cancel`).catch(() => {});
    flow.clear();
    go("idle", { view: "home" });
  } else if (pairing && pairing.status === "open") {
    const data = { paymentSessionId: payment.id, requestId: pairing.pairing_request_id, expiresAt: pairing.expires_at, target };
    go(pairing.request_type === "returning" ? "targeted_waiting" : "searching", data);
  } else if (payment.status === "confirmed" && !pairing) {
    await screens.pairing.startSearch(payment.id, target); // confirmed, then the tab went away
  } else if (payment.status === "failed_pairing" && pairing) {
    await screens.pairing.failed(payment.id, pairing.cause_tag, target);
  } else {
    flow.clear();
    if (current.name !== "idle") go("idle", { view: "home" });
  }
}

function start() {
  if (!tokens.get()) {
    location.replace("/login");
    return;
  }
  for (const button of $$("[data-action]")) {
    const action = button.dataset.action;
    if (action === "home") button.addEventListener("click", () => go("idle", { view: "home" }));
    if (action === "history") button.addEventListener("click", () => go("idle", { view: "history" }));
    if (action === "logout")
      button.addEventListener("click", () => {
        rt.stop();
        flow.clear();
        api.toLogin();
      });
  }
  const banner = $("#connection");
  rt.on("status", (status) => show(banner, status !== "open" && rt.connectedOnce));
  rt.on("open", ({ reconnect }) => {
    if (reconnect) resync();
  });
  rt.on("CHAT_SESSION_ENDED", (data) => {
    if (store.get().activeChat?.id === data.chat_session_id) store.set({ activeChat: null });
  });
  rt.on("MITRA_AVAILABILITY", (data) => store.set({ availability: { available: data.available, count: data.count } }));
  api
    .get("/api/client/me")
    .then((me) => {
      store.set({ me });
      fill(document.body, { "me-name": me.display_name });
    })
    .catch(() => {});
  rt.start();
  resync();
}

start();
