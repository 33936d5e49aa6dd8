// gongan's facilitator page: plain JS, no build step, everything from this server.
//
// The server is the only clock: the time left, the beat and the state come from the
// `/v1/events` stream (a `tick` each second, and an event for everything that happens),
// never from a browser timer that would drift or sleep in a background tab. When the
// stream breaks the page says so at once and reconnects by itself.

import { Ear, LinkGone } from "/listen.js";

const $ = (id) => document.getElementById(id);

/// `/listen/SECRET`: a listener link — the presentation view, read through the link's
/// own routes (no token), which also plays the strokes here, in time with the room.
const LISTEN_BASE = location.pathname.startsWith("/listen/")
  ? location.pathname.replace(/\/+$/, "")
  : null;
const LISTENING = LISTEN_BASE !== null;
/// `/present`: the projector's view of the same page — clock, wheel, segment, what comes
/// next and the facilitator's message; no controls (the stylesheet hides them). A
/// listener sees the same.
const PRESENTING = location.pathname === "/present" || LISTENING;
if (PRESENTING) {
  document.body.classList.add("present");
  document.title = "gongan — presentation";
}
if (LISTENING) {
  document.body.classList.add("listening");
  document.title = "gongan — listening";
}
/// Where the status and the events come from.
const STATUS_PATH = LISTENING ? `${LISTEN_BASE}/status` : "/v1/status";
const EVENTS_PATH = LISTENING ? `${LISTEN_BASE}/events` : "/v1/events";

const STATE_LABELS = {
  buka: "Opening",
  running: "Running",
  paused: "Paused",
  overtime: "Overtime",
  finished: "Finished",
};
const SYMBOL_NAMES = {
  G: "gong", N: "kenong", P: "kempul", W: "wela (kempul rests)", T: "ketuk", p: "kempyang", ".": "rest",
};
/// Reconnect delays in milliseconds: quick at first, then every few seconds.
const BACKOFF = [250, 500, 1000, 2000, 3000];
const LOG_LENGTH = 8;

const app = {
  events: null,
  connected: false,
  attempt: 0,
  reconnectTimer: null,
  sampleRate: 48000,
  /// The last full session snapshot (`GET /v1/status`'s `session`), or null.
  snapshot: null,
  /// The live part, from ticks: state, segment, title, remaining, elapsed, beat, of.
  live: null,
  /// While paused: the time left when the pause began (the server's count keeps running
  /// towards a deadline it only moves on resume), and the pause's engine frame.
  patternKey: "",
  plansLoaded: false,
  instrumentsLoaded: false,
  historyLoaded: false,
  ticks: 0,
  lastAnnounced: "",
  stopArmed: null,
  busy: false,
  /// The master volume as the server last said: { volume_db, muted }.
  volume: null,
  /// A volume the slider asked for while a change was on its way; the latest wins.
  volumeWanted: null,
  volumeSending: false,
  /// The active pack's id, and every pack as `GET /v1/packs` lists them.
  activePack: null,
  packs: [],
  /// Previews this page asked for, by the receipt's id, until their `cue_played`.
  previews: new Map(),
  /// The last few `cue_played` events by id: a preview's may arrive before its answer.
  recentCues: new Map(),
  /// The archive waiting for its name to be confirmed.
  staged: null,
};

// ---------------------------------------------------------------------------------------
// HTTP

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    // Every change says who made it: the journal, the history and the other screens
    // show "page".
    // (A plan is a document, not an action: it carries no actor.)
    const plain = path === "/v1/login" || path.startsWith("/v1/plans/");
    const acted = plain ? body : { ...(body ?? {}), by: "page" };
    init.body = JSON.stringify(acted ?? {});
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401) askToken();
    const detail = (data && (data.detail || data.title)) || `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, detail);
  }
  return data;
}

/// How long a message stays: long enough to read, not through the whole session on a
/// projected page (the log keeps it).
const MESSAGE_MS = 8000;

function say(text, kind = "info") {
  const el = $("message");
  el.textContent = text;
  el.dataset.kind = kind;
  clearTimeout(app.messageTimer);
  if (text) app.messageTimer = setTimeout(() => { el.textContent = ""; }, MESSAGE_MS);
}

// ---------------------------------------------------------------------------------------
// The event stream and reconnecting

async function connect() {
  clearTimeout(app.reconnectTimer);
  // Ask first with a plain request: an EventSource cannot tell "server down" from
  // "token needed", a fetch can.
  let status;
  try {
    status = await api("GET", STATUS_PATH);
  } catch (error) {
    if (LISTENING && error instanceof ApiError && [403, 404].includes(error.status)) {
      linkGone();
      return;
    }
    if (error instanceof ApiError && error.status === 401) {
      setConnection("locked");
      return; // the login dialog reconnects
    }
    disconnected(error instanceof ApiError ? error.message : "the server does not answer");
    return;
  }
  applyStatus(status);
  const events = new EventSource(EVENTS_PATH, { withCredentials: true });
  app.events = events;
  events.addEventListener("status", (e) => {
    app.attempt = 0;
    setConnection("live");
    applyStatus(JSON.parse(e.data).status);
  });
  events.addEventListener("resync", (e) => applyStatus(JSON.parse(e.data).status));
  events.addEventListener("tick", (e) => onTick(JSON.parse(e.data)));
  events.addEventListener("stroke", (e) => onStroke(JSON.parse(e.data)));
  // A listener schedules a cue as soon as it is accepted (`cue_scheduled`), or failing
  // that when the sound card takes it (`cue_played`): whichever comes first.
  events.addEventListener("cue_scheduled", (e) => {
    app.ear?.cue(JSON.parse(e.data)).catch((error) => app.ear.fail(error));
  });
  events.addEventListener("cue_played", (e) => {
    const cue = JSON.parse(e.data);
    app.ear?.cue(cue).catch((error) => app.ear.fail(error));
    onCuePlayed(cue);
  });
  events.addEventListener("output", (e) => onOutput(JSON.parse(e.data)));
  events.addEventListener("volume", (e) => onVolume(JSON.parse(e.data)));
  events.addEventListener("room_message", (e) => showRoomMessage(JSON.parse(e.data)));
  events.addEventListener("warning", (e) => {
    const warning = JSON.parse(e.data);
    log(`Warning: ${warning.detail}`);
    say(warning.detail, "error");
  });
  for (const kind of ["session_started", "segment_started", "paused", "resumed", "extended",
    "skipped", "stopped", "overtime", "missed", "finished", "time_left_set", "jumped", "spin",
    "turn"]) {
    events.addEventListener(kind, (e) => {
      onSessionEvent(JSON.parse(e.data));
      // Steering changed what comes next: the ear hears of it now, not at its next refill.
      app.ear?.refill().catch((error) => app.ear.fail(error));
    });
  }
  events.onerror = () => {
    // The browser would retry by itself, but not after every kind of failure: take over,
    // so the page always shows the truth and always comes back.
    if (app.events !== events) return;
    events.close();
    app.events = null;
    disconnected("the event stream broke");
  };
}

function disconnected(reason) {
  app.connected = false;
  setConnection("offline");
  $("offline-detail").textContent = `(${reason})`;
  const delay = BACKOFF[Math.min(app.attempt, BACKOFF.length - 1)];
  app.attempt += 1;
  clearTimeout(app.reconnectTimer);
  app.reconnectTimer = setTimeout(connect, delay);
}

function setConnection(state) {
  const pill = $("connection");
  pill.dataset.state = state;
  pill.textContent = { live: "live", offline: "disconnected", connecting: "connecting…", locked: "locked" }[state];
  app.connected = state === "live";
  document.body.classList.toggle("offline", state === "offline");
  document.body.classList.remove("connecting");
  $("offline").hidden = state !== "offline";
  // While offline nothing is known about the sound; the next status says again.
  if (state === "offline") $("degraded").hidden = true;
  for (const button of document.querySelectorAll(".controls button, .pad button, .plans button, #sound button, #volume")) {
    button.disabled = !app.connected;
  }
  if (app.connected) say("");
}

// ---------------------------------------------------------------------------------------
// Token

function askToken() {
  const dialog = $("login");
  if (!dialog.open) {
    dialog.showModal();
    $("token").focus();
  }
}

async function login(token) {
  try {
    await api("POST", "/v1/login", { token });
  } catch (error) {
    $("login-error").textContent = error.status === 401 ? "That is not the token." : error.message;
    return false;
  }
  // The server answers with an HttpOnly cookie holding a login session (never the token):
  // the API and the EventSource carry it until it expires or "log out" ends it.
  $("login-error").textContent = "";
  $("login").close();
  $("logout").hidden = false;
  await connect();
  return true;
}

// ---------------------------------------------------------------------------------------
// Applying what the server says

function applyStatus(status) {
  if (!status) return;
  if (status.engine?.sample_rate) app.sampleRate = status.engine.sample_rate;
  showAudio(status.output, status.device, status.fault);
  applySnapshot(status.session, status.engine?.frame);
  if (!app.plansLoaded && !LISTENING) loadPlans();
  if (!app.instrumentsLoaded && !LISTENING) loadInstruments();
  if (!app.historyLoaded && !PRESENTING) loadHistory();
  if (status.volume) applyVolume(status.volume);
  if (status.room_message) showRoomMessage(status.room_message);
  if (status.pack && status.pack !== app.activePack) {
    // Another screen (or the CLI) chose a pack: follow it.
    if (app.activePack !== null && !LISTENING) loadInstruments();
    if (app.activePack !== null) app.ear?.repack();
    app.activePack = status.pack;
    if (!LISTENING) loadPacks();
  }
}

function showAudio(output, device, fault) {
  const pill = $("audio");
  pill.dataset.state = output;
  const banner = $("degraded");
  if (output === "device" || output === "pipe") {
    pill.textContent = "sound on";
    pill.title = output === "pipe" ? `Playing to Snapcast through ${device}` : `Playing through ${device}`;
    banner.hidden = true;
  } else {
    pill.textContent = output === "null" ? "no sound" : "sound failed";
    pill.title = output === "null" ? "No sound card: the session runs silently" : fault || "";
    banner.hidden = false;
    banner.textContent = output === "null"
      ? "No sound: the server plays to the silent null output (no sound card found, or --output null). The session runs and shows here as usual."
      : `Sound has failed (${fault || "the output stopped"}): the session still runs, silently.`;
  }
}

function applySnapshot(snapshot, frame) {
  app.snapshot = snapshot || null;
  if (!snapshot) {
    app.live = null;
    showMode("idle");
    return;
  }
  app.live = {
    state: snapshot.state,
    segment: snapshot.segment,
    title: snapshot.title,
    remaining_seconds: snapshot.remaining_seconds,
    overtime_seconds: snapshot.overtime_seconds,
    elapsed_seconds: snapshot.elapsed_seconds,
    beat: snapshot.beat,
    of: snapshot.of,
  };
  $("plan-name").textContent = snapshot.plan;
  $("notes").textContent = snapshot.notes || "No notes for this segment.";
  showMode(snapshot.state === "finished" ? "finished" : "session");
  drawWheelMarks(snapshot.pattern);
  renderLive(frame);
  renderSegments();
  renderTurn(snapshot);
  renderSpinBox(snapshot);
}

async function refreshSession() {
  try {
    applyStatus(await api("GET", STATUS_PATH));
  } catch {
    // The stream's error handler deals with a dead server.
  }
}

function onTick(tick) {
  app.ticks += 1;
  if (app.ticks % 15 === 0) refreshHealth();
  const s = tick.session;
  if (!s) {
    if (app.snapshot) refreshSession();
    return;
  }
  const known = app.snapshot;
  if (!known || known.segment !== s.segment || known.state !== s.state || known.of !== s.of) {
    // Something changed that a tick does not describe (notes, pattern, next, the plan):
    // take the whole picture.
    app.live = s;
    refreshSession();
    return;
  }
  app.live = s;
  renderLive(tick.frame);
  renderSegments();
}

async function refreshHealth() {
  try {
    const health = await api("GET", "/healthz");
    showAudio(health.output, health.device, null);
  } catch {
    // Nothing to do: a dead server shows through the stream.
  }
}

/// " (by cli:ana)" for an event someone made.
function who(event) {
  return event.by ? ` (by ${event.by})` : "";
}

function onSessionEvent(event) {
  switch (event.type) {
    case "session_started": log(`Session started: ${event.plan}${who(event)}`); break;
    case "segment_started": log(`Segment ${event.segment + 1}: ${event.title}`); break;
    case "paused": log(`Paused${who(event)}`); break;
    case "resumed":
      log(event.down_seconds != null
        ? `The server is back after ${formatDuration(event.down_seconds)}: the session goes on`
        : `Resumed${who(event)}`);
      break;
    case "extended": log(`Extended by ${formatDuration(event.by_seconds)}${who(event)}`); break;
    case "skipped": log((event.to === "next" ? "Moved on to the next segment" : "Back to the previous segment") + who(event)); break;
    case "stopped": log(`Stopped${who(event)}`); break;
    case "overtime": log("Time is up — holding until you press Next"); break;
    case "missed": log(`${event.strokes} strokes missed: the sound stalled past their moment`); break;
    case "time_left_set": log(`Time left set to ${formatDuration(event.left_seconds)}${who(event)}`); break;
    case "jumped": log(`Jumped to segment ${event.segment + 1}${who(event)}`); break;
    case "spin":
      log(`The wheel spins${who(event)}`);
      // The event is sent as the spin begins: its own instant is now.
      if (event.entry !== undefined) startSpin(event, event.start_seconds);
      break;
    case "turn":
      log(`${event.person}'s turn` + (event.next ? ` (then ${event.next})` : ""));
      break;
    case "finished": log("Session finished"); loadHistory(true); break;
    default: break;
  }
  refreshSession();
}

/// The sound card was lost, came back or was reopened: show it at once, and log why.
function onOutput(event) {
  showAudio(event.output, event.device, event.detail);
  log(event.output === "degraded" ? `Sound lost: ${event.detail}` : `Sound: ${event.detail}`);
}

function onStroke(stroke) {
  const kind = stroke.kind?.type;
  if (kind === "beat" && app.live && stroke.segment === app.live.segment) {
    app.live.beat = stroke.kind.beat;
    renderWheel();
    flashMark(stroke.kind.beat);
  } else if (kind === "segment_end" || kind === "session_end") {
    flashMark(app.live?.of || 0);
  }
  if (kind === "warning") log(`Warning stroke: ${humanLead(stroke.kind.lead)} left`);
}

function onCuePlayed(cue) {
  const name = cue.variant ? `${cue.instrument} ${cue.variant}` : cue.instrument;
  const preview = app.previews.get(cue.id);
  if (preview) {
    onPreviewPlayed(cue, preview, name);
    return;
  }
  app.recentCues.set(cue.id, cue);
  if (app.recentCues.size > 32) app.recentCues.delete(app.recentCues.keys().next().value);
  const el = $("last-cue");
  el.textContent = `Played ${name}`;
  el.dataset.cue = cue.instrument;
  el.dataset.id = String(cue.id);
  log(`Cue: ${name}${who(cue)}`);
  const button = document.querySelector(`.pad button[data-instrument="${CSS.escape(cue.instrument)}"]`);
  if (button) {
    button.classList.remove("struck");
    void button.offsetWidth; // restart the animation
    button.classList.add("struck");
  }
}

// ---------------------------------------------------------------------------------------
// The message to the room

/// Shows the facilitator's message (a `room_message` event, or the status's).
function showRoomMessage(message) {
  const text = message?.text || "";
  const el = $("room-message");
  el.textContent = text;
  el.hidden = text === "";
  if (document.activeElement !== $("room-text")) $("room-text").value = text;
}

async function sendRoomMessage(text) {
  $("room-error").textContent = "";
  try {
    showRoomMessage(await api("PUT", "/v1/room/message", { text, by: "page" }));
  } catch (error) {
    $("room-error").textContent = error.message;
  }
}

// ---------------------------------------------------------------------------------------
// Listeners

/// The link stopped working (revoked): say so, stop the sound, stop reconnecting.
function linkGone() {
  app.linkGone = true;
  clearTimeout(app.reconnectTimer);
  if (app.events) app.events.close();
  app.events = null;
  app.ear?.stop();
  $("link-gone").hidden = false;
  $("offline").hidden = true;
  $("ear").hidden = true;
  setConnection("offline");
  $("offline").hidden = true;
}

/// What the listener's corner shows: the sound's state, how closely this page's clock
/// follows the server's, and the speaker's latency.
function showEar(state) {
  if (state.gone) {
    linkGone();
    return;
  }
  $("ear").dataset.state = state.listening ? "listening" : "idle";
  const parts = [];
  if (state.listening) parts.push(`Listening · ${state.played} strokes`);
  if (state.syncedMs !== null) parts.push(`clock ±${state.syncedMs.toFixed(1)} ms`);
  if (state.latencyMs !== null) parts.push(`speaker latency ${state.latencyMs.toFixed(0)} ms`);
  if (state.skipped) parts.push(`${state.skipped} too late to play`);
  if (state.replaced) parts.push(`${state.replaced} placed again after an audio stall`);
  $("ear-stats").textContent = parts.join(" · ");
}

function initEar() {
  $("ear").hidden = false;
  app.ear = new Ear(LISTEN_BASE, showEar);
  const volume = $("ear-volume");
  const saved = Number(localStorage.getItem("gongan.listener.volume"));
  if (localStorage.getItem("gongan.listener.volume") !== null && saved >= 0 && saved <= 1) {
    volume.value = String(saved);
  }
  app.ear.setVolume(Number(volume.value));
  volume.addEventListener("input", () => {
    app.ear.setVolume(Number(volume.value));
    localStorage.setItem("gongan.listener.volume", volume.value);
  });
  $("ear-start").addEventListener("click", async () => {
    $("ear-start").disabled = true;
    $("ear-stats").textContent = "Tuning in…";
    try {
      await app.ear.unlock();
    } catch (error) {
      if (error instanceof LinkGone) {
        linkGone();
        return;
      }
      $("ear-stats").textContent = `No sound: ${error.message}`;
      $("ear-start").disabled = false;
    }
  });
}

/// Makes a listener link (the facilitator's page) and shows its address to share.
async function makeListenerLink(name) {
  $("share-error").textContent = "";
  $("share-url").textContent = "";
  const wanted = name.trim() || "listeners";
  try {
    const made = await api("POST", "/v1/links", { name: wanted, allow: "listen" });
    $("share-url").textContent = `${location.origin}${made.listen_path}`;
    log(`Listener link '${made.name}' made: revoke it with gongan link revoke ${made.name}`);
  } catch (error) {
    $("share-error").textContent = error.message;
  }
}

$("share-form").addEventListener("submit", (e) => {
  e.preventDefault();
  makeListenerLink($("share-name").value);
});

$("room-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sendRoomMessage($("room-text").value);
});
$("room-clear").addEventListener("click", () => {
  $("room-text").value = "";
  sendRoomMessage("");
});

// ---------------------------------------------------------------------------------------
// Rendering

// ---------------------------------------------------------------------------------------
// Past sessions

const HISTORY_LENGTH = 10;

/// Lists the latest sessions; `openNewest` shows the newest one's debrief (a session that
/// just finished).
async function loadHistory(openNewest = false) {
  app.historyLoaded = true;
  let page;
  try {
    page = await api("GET", `/v1/history?limit=${HISTORY_LENGTH}`);
  } catch (error) {
    app.historyLoaded = false;
    $("history-empty").textContent = `Could not list past sessions: ${error.message}`;
    $("history-empty").hidden = false;
    return;
  }
  const sessions = page.sessions.filter((session) => session.finished);
  $("history-empty").hidden = sessions.length > 0;
  $("history-list").replaceChildren(...sessions.map(historyItem));
  if (openNewest && sessions.length) {
    const button = $("history-list").querySelector("button.debrief-toggle");
    if (button) await toggleDebrief(sessions[0], button, button.closest("li").querySelector(".debrief"));
  }
}

function historyItem(session) {
  const li = document.createElement("li");
  li.className = "past";
  li.dataset.session = session.id;
  const h = document.createElement("h4");
  h.textContent = session.plan;
  const meta = document.createElement("p");
  meta.className = "meta";
  const started = new Date(session.started);
  const ending = (session.ending || "").replaceAll("_", " ");
  meta.textContent = `${started.toLocaleString()} · ${ending} · started by ${session.started_by}`;
  const actions = document.createElement("div");
  actions.className = "past-actions";
  const debrief = document.createElement("div");
  debrief.className = "debrief";
  debrief.hidden = true;
  const toggle = button("Debrief", "debrief-toggle", () => toggleDebrief(session, toggle, debrief));
  toggle.setAttribute("aria-expanded", "false");
  const again = button("Run again", "run-again", () => runAgain(session, again));
  const plan = button("New plan from actual timings", "plan-from-actual", () => planFromActual(session, plan));
  actions.append(toggle, again, plan);
  li.append(h, meta, actions, debrief);
  return li;
}

function button(label, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

/// Shows (or hides) a session's debrief sheet, as Markdown to copy.
async function toggleDebrief(session, toggle, box) {
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  box.hidden = !open;
  if (!open || box.childElementCount) return;
  let markdown;
  try {
    const response = await fetch(`/v1/history/${encodeURIComponent(session.id)}?format=md`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    markdown = await response.text();
  } catch (error) {
    box.textContent = `Cannot load the debrief: ${error.message}`;
    return;
  }
  const pre = document.createElement("pre");
  pre.className = "debrief-text";
  pre.textContent = markdown;
  const copy = button("Copy the debrief", "copy-debrief", async () => {
    try {
      await navigator.clipboard.writeText(markdown);
      copy.textContent = "Copied";
    } catch {
      // Without clipboard access the text is selected for a manual copy.
      window.getSelection().selectAllChildren(pre);
      copy.textContent = "Selected: press Ctrl+C";
    }
  });
  box.replaceChildren(copy, pre);
}

async function runAgain(session, b) {
  b.disabled = true;
  try {
    const snapshot = await api("POST", "/v1/session", { from_history: session.id });
    app.patternKey = "";
    applySnapshot(snapshot);
    say(`Running "${session.plan}" again`);
  } catch (error) {
    say(`Could not run it again: ${error.message}`, "error");
  } finally {
    b.disabled = false;
  }
}

/// Saves the session's actual timings as a new plan, named after it.
async function planFromActual(session, b) {
  b.disabled = true;
  try {
    const plan = await api("GET", `/v1/history/${encodeURIComponent(session.id)}/plan`);
    const slug = session.plan.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "") || "session";
    const id = `${slug}-actual`;
    await api("PUT", `/v1/plans/${id}`, plan);
    await loadPlans();
    say(`Saved as the plan "${plan.name}" (${id}): it is with the plans to start`);
  } catch (error) {
    say(`Could not make a plan of it: ${error.message}`, "error");
  } finally {
    b.disabled = false;
  }
}

function showMode(mode) {
  // A finished session's result comes first, the plans to start another after it.
  if (mode === "finished") $("history").after($("picker"));
  else $("waiting").after($("picker"));
  $("history").hidden = PRESENTING;
  $("picker").hidden = mode === "session" || PRESENTING || !$("editor").hidden;
  $("waiting").hidden = !(PRESENTING && mode === "idle");
  $("session").hidden = mode === "idle";
  $("cues").hidden = PRESENTING;
  document.body.dataset.mode = mode;
  $("picker-title").textContent = mode === "finished" ? "Session finished — start another?" : "Start a session";
  if (mode === "idle") $("plan-name").textContent = "";
}

function renderLive(frame) {
  const live = app.live;
  const snap = app.snapshot;
  if (!live || !snap) return;
  const state = live.state;
  const stateEl = $("state");
  stateEl.dataset.state = state;
  stateEl.textContent = STATE_LABELS[state] || state;
  document.body.dataset.state = state;
  const count = snap.segments.length;
  $("position").textContent = state === "buka"
    ? `before segment 1 of ${count}`
    : `segment ${live.segment + 1} of ${count}`;
  // During the opening phrase no segment runs yet: the first one is what comes next.
  $("title").textContent = state === "buka" ? "Opening phrase" : live.title;
  // The server holds the time left still while paused and counts overtime itself.
  const remaining = live.remaining_seconds;
  const over = live.overtime_seconds || 0;
  const clock = $("time-left");
  clock.textContent = state === "finished" ? "done"
    : state === "overtime" ? `+${formatClock(over)}` : formatClock(remaining);
  clock.dataset.seconds = String(Math.ceil(remaining));
  clock.setAttribute("aria-label", `time left: ${spoken(remaining)}`);
  let next;
  if (state === "finished") next = "The session is over.";
  else if (state === "buka") next = `Next: ${live.title}`;
  else if (state === "overtime" && PRESENTING) next = snap.next ? `Time is up. Next: ${snap.next}` : "Time is up.";
  else if (state === "overtime") next = snap.next ? `Time is up. Press Next for: ${snap.next}` : "Time is up. Press Next to finish.";
  else next = snap.next ? `Next: ${snap.next}` : "Last segment — the big gong ends the session.";
  $("next").textContent = next;

  const pause = $("btn-pause");
  pause.querySelector(".label").textContent = state === "paused" ? "Resume" : "Pause";
  pause.dataset.action = state === "paused" ? "resume" : "pause";
  pause.setAttribute("aria-pressed", String(state === "paused"));
  for (const button of document.querySelectorAll(".controls button")) {
    button.disabled = !app.connected || state === "finished";
  }
  announce(live, remaining);
  renderWheel(remaining);
}

/// One spoken update per whole minute (and on state changes), so screen readers are not
/// flooded once a second.
function announce(live, remaining) {
  const minutes = Math.ceil(remaining / 60);
  let text;
  if (live.state === "paused") text = `Paused. ${spoken(remaining)} left in ${live.title}.`;
  else if (live.state === "overtime") text = `Time is up for ${live.title}.`;
  else if (live.state === "finished") text = "The session has finished.";
  else text = `${minutes} minute${minutes === 1 ? "" : "s"} left in ${live.title}.`;
  if (text !== app.lastAnnounced) {
    app.lastAnnounced = text;
    $("time-announce").textContent = text;
  }
}

function renderSegments() {
  const snap = app.snapshot;
  const live = app.live;
  if (!snap) return;
  const body = $("segments");
  if (body.children.length !== snap.segments.length) {
    body.replaceChildren(...snap.segments.map((_, i) => {
      const row = document.createElement("tr");
      for (let c = 0; c < 5; c += 1) row.append(document.createElement("td"));
      row.children[0].textContent = String(i + 1);
      row.children[2].className = "num";
      row.children[3].className = "num";
      if (!PRESENTING) {
        const jump = document.createElement("button");
        jump.type = "button";
        jump.className = "jump";
        jump.dataset.action = "jump";
        jump.dataset.segment = String(i);
        jump.textContent = "Go";
        jump.title = `Jump to segment ${i + 1}`;
        row.children[4].append(jump);
      }
      return row;
    }));
  }
  snap.segments.forEach((segment, i) => {
    const row = body.children[i];
    const current = live && live.state !== "buka" && live.state !== "finished" && i === live.segment;
    const done = segment.ended_seconds !== null && !current;
    row.className = current ? "current" : done ? "done" : "";
    if (current) row.setAttribute("aria-current", "step");
    else row.removeAttribute("aria-current");
    row.children[1].textContent = segment.title;
    const jump = row.querySelector("button.jump");
    if (jump) {
      jump.disabled = !app.connected || live?.state === "finished";
      jump.setAttribute("aria-label", `Jump to segment ${i + 1}: ${segment.title}`);
    }
    // What +1 min gave it shows beside the plan's length.
    const extended = segment.extended_seconds || 0;
    row.children[2].textContent = formatDuration(segment.planned_seconds) +
      (extended > 0 ? ` +${formatDuration(extended)}` : "");
    let actual = "—";
    if (segment.started_seconds !== null) {
      if (current && live) actual = formatDuration(Math.max(0, live.elapsed_seconds - segment.started_seconds));
      else if (segment.ended_seconds !== null) actual = formatDuration(segment.ended_seconds - segment.started_seconds);
    }
    row.children[3].textContent = actual;
    const over = segment.started_seconds !== null && actual !== "—" &&
      parseClock(actual) > segment.planned_seconds + extended + 0.5;
    row.children[3].classList.toggle("over", over);
  });
}

// ---------------------------------------------------------------------------------------
// The wheel: one mark per beat of the form, clockwise, the gong (the last beat) at the top,
// where the hand arrives exactly at the deadline.

const SVG = "http://www.w3.org/2000/svg";
const RADIUS = 92;

function polar(fraction, radius) {
  const angle = fraction * 2 * Math.PI;
  return [radius * Math.sin(angle), -radius * Math.cos(angle)];
}

function drawWheelMarks(pattern) {
  const symbols = pattern && pattern.length ? pattern : ["G"];
  const key = symbols.join("");
  if (key === app.patternKey) return;
  app.patternKey = key;
  const group = $("wheel-marks");
  const n = symbols.length;
  const marks = symbols.map((symbol, i) => {
    const beat = i + 1;
    const [x, y] = polar(beat / n, RADIUS);
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", `mark sym-${symbolClass(symbol)}`);
    g.dataset.beat = String(beat);
    g.setAttribute("transform", `translate(${x.toFixed(2)} ${y.toFixed(2)})`);
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("r", String(markRadius(symbol, n)));
    const title = document.createElementNS(SVG, "title");
    title.textContent = `beat ${beat}: ${SYMBOL_NAMES[symbol] || symbol}`;
    g.append(dot, title);
    if (symbol === "G") {
      const label = document.createElementNS(SVG, "text");
      label.setAttribute("y", "-15");
      label.setAttribute("class", "gong-label");
      label.textContent = "GONG";
      g.append(label);
    }
    return g;
  });
  group.replaceChildren(...marks);
}

function symbolClass(symbol) {
  return { G: "gong", N: "kenong", P: "kempul", W: "wela", T: "ketuk", p: "kempyang" }[symbol] || "rest";
}

function markRadius(symbol, n) {
  const scale = n > 32 ? 0.6 : n > 16 ? 0.8 : 1;
  const base = { G: 11, N: 7, P: 5.5, W: 5, T: 4, p: 3 }[symbol] ?? 2;
  return symbol === "G" ? base : +(base * scale).toFixed(2);
}

function renderWheel(remaining) {
  const live = app.live;
  const snap = app.snapshot;
  if (!live || !snap) return;
  const beat = live.state === "buka" ? 0 : live.beat;
  for (const mark of $("wheel-marks").children) {
    const k = Number(mark.dataset.beat);
    mark.classList.toggle("played", live.state === "finished" || k <= beat);
    mark.classList.toggle("current", k === beat);
  }
  // The hand: how far through this segment's gongan we are, from the server's numbers.
  let fraction = 0;
  const segment = snap.segments[live.segment];
  if (live.state === "finished" || live.state === "overtime") fraction = 1;
  else if (live.state !== "buka" && segment && segment.started_seconds !== null && remaining !== undefined) {
    const into = live.elapsed_seconds - segment.started_seconds;
    const whole = into + remaining;
    if (live.state === "paused") fraction = app.handFraction ?? 0;
    else fraction = whole > 0 ? Math.min(1, Math.max(0, into / whole)) : 0;
  }
  if (remaining === undefined) return;
  app.handFraction = fraction;
  $("wheel-hand").setAttribute("transform", `rotate(${(fraction * 360).toFixed(2)})`);
  $("wheel-progress").setAttribute("d", arcPath(fraction));
  const caption = live.state === "buka"
    ? "The opening phrase: the cycle starts with segment 1"
    : `Beat ${beat} of ${live.of} of the gongan cycle; the gong at the top lands when time is up`;
  $("wheel-caption").textContent = caption;
  $("wheel").setAttribute("aria-label", caption);
}

function arcPath(fraction) {
  if (fraction <= 0) return "";
  const r = RADIUS;
  if (fraction >= 0.9999) return `M 0 ${-r} A ${r} ${r} 0 1 1 0 ${r} A ${r} ${r} 0 1 1 0 ${-r}`;
  const [x, y] = polar(fraction, r);
  const large = fraction > 0.5 ? 1 : 0;
  return `M 0 ${-r} A ${r} ${r} 0 ${large} 1 ${x.toFixed(2)} ${y.toFixed(2)}`;
}

function flashMark(beat) {
  const mark = $("wheel-marks").querySelector(`[data-beat="${beat}"]`);
  if (!mark) return;
  mark.classList.remove("struck");
  void mark.getBoundingClientRect();
  mark.classList.add("struck");
}

// ---------------------------------------------------------------------------------------
// Plans and the cue pad

async function loadPlans() {
  app.plansLoaded = true;
  let plans;
  try {
    plans = await api("GET", "/v1/plans");
  } catch (error) {
    app.plansLoaded = false;
    say(`Could not list the plans: ${error.message}`, "error");
    return;
  }
  const list = $("plans");
  list.replaceChildren(...plans.map((plan) => {
    const li = document.createElement("li");
    li.className = "plan";
    const h = document.createElement("h3");
    h.textContent = plan.name;
    const meta = document.createElement("p");
    meta.className = "meta";
    meta.textContent = `${plan.segments} segment${plan.segments === 1 ? "" : "s"} · ${formatDuration(plan.total_seconds)}` +
      (plan.template ? " · template" : " · saved plan");
    const description = document.createElement("p");
    description.className = "description";
    description.textContent = plan.description || "";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "start";
    button.dataset.plan = plan.id;
    button.disabled = !app.connected;
    button.innerHTML = "Start <span aria-hidden=\"true\">▶</span>";
    button.setAttribute("aria-label", `Start ${plan.name}`);
    button.addEventListener("click", () => startPlan(plan, button));
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "edit-plan";
    edit.dataset.plan = plan.id;
    edit.textContent = plan.template ? "Duplicate" : "Edit";
    edit.setAttribute("aria-label", `${edit.textContent} ${plan.name}`);
    edit.addEventListener("click", () => openEditor(plan));
    const peek = document.createElement("details");
    peek.className = "peek";
    const summary = document.createElement("summary");
    summary.textContent = "Segments";
    const list = document.createElement("ol");
    peek.append(summary, list);
    peek.addEventListener("toggle", () => { if (peek.open && !list.childElementCount) peekPlan(plan, list); });
    li.append(h, meta, description, peek, button, edit);
    return li;
  }));
}

/// Lists a plan's segments on its card, before it is started.
async function peekPlan(plan, list) {
  try {
    const doc = await api("GET", `/v1/plans/${encodeURIComponent(plan.id)}`);
    list.replaceChildren(...doc.segments.map((segment) => {
      const li = document.createElement("li");
      li.textContent = `${segment.title} · ${segment.duration}` + (segment.end === "wait" ? " · waits" : "");
      return li;
    }));
  } catch (error) {
    list.textContent = `Cannot load it: ${error.message}`;
  }
}

// ---------------------------------------------------------------------------------------
// The plan editor

/// Opens the editor on a copy of `plan` (a template is duplicated under a new id, a saved
/// plan edited in place), or on a new plan when `plan` is null.
async function openEditor(plan) {
  let doc = { name: "", description: "", segments: [{ title: "", duration: "10m" }] };
  app.editing = { id: null, saved: false };
  if (plan) {
    try {
      doc = await api("GET", `/v1/plans/${encodeURIComponent(plan.id)}`);
    } catch (error) {
      say(`Cannot open ${plan.name}: ${error.message}`, "error");
      return;
    }
    app.editing = { id: plan.id, saved: !plan.template };
    if (plan.template) {
      doc = { ...doc, name: `${doc.name} (ours)` };
    }
  }
  const editing = app.editing;
  $("editor-title").textContent = editing.saved ? `Edit "${doc.name}"` : plan ? `A copy of "${plan.name}"` : "New plan";
  $("plan-id").value = editing.saved ? editing.id : plan ? `${plan.id}-ours` : "";
  $("plan-id").readOnly = editing.saved;
  $("plan-title").value = doc.name || "";
  $("plan-description").value = doc.description || "";
  $("edit-segments").replaceChildren(...doc.segments.map(segmentEditor));
  $("editor-delete").hidden = !editing.saved;
  clearEditorErrors();
  $("editor").hidden = false;
  $("picker").hidden = true;
  $("plan-title").focus();
}

function closeEditor() {
  $("editor").hidden = true;
  $("picker").hidden = document.body.dataset.mode === "session";
}

const SEGMENT_FIELDS = [
  ["title", "Title", "input"],
  ["duration", "Duration (5m, 1h30m, 90s)", "input"],
  ["form", "Form", "input"],
  ["density", "Density", "select", ["", "sparse", "normal", "full"]],
  ["end", "When time is up", "select", ["", "auto", "wait"]],
  ["warnings", "Warnings before the end (5m, 1m)", "input"],
  ["notes", "Notes for the facilitator", "textarea"],
  ["entries", "A wheel to spin: people, topics or incidents, one per line", "textarea"],
  ["draw", "The wheel draws", "select", ["", "with-repetition", "without-repetition"]],
  ["rotation", "People who take turns, in order, one per line", "textarea"],
];
const SELECT_LABELS = {
  "": "(default)", auto: "move on", wait: "wait for Next",
  "with-repetition": "any entry, every spin", "without-repetition": "each entry once a round",
};

/// One segment's fields, with buttons to move it and remove it.
function segmentEditor(segment) {
  const li = document.createElement("li");
  li.className = "edit-segment";
  for (const [field, label, kind, options] of SEGMENT_FIELDS) {
    const wrap = document.createElement("label");
    wrap.className = `field seg-${field}`;
    const text = document.createElement("span");
    text.textContent = label;
    const input = document.createElement(kind);
    input.dataset.field = field;
    if (kind === "select") {
      for (const value of options) {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = SELECT_LABELS[value] ?? value;
        input.append(option);
      }
    }
    if (field === "form") input.setAttribute("list", "forms");
    const value = segment[field];
    const separator = kind === "textarea" ? "\n" : ", ";
    input.value = Array.isArray(value) ? value.join(separator) : (value ?? "");
    const error = document.createElement("span");
    error.className = "field-error";
    error.dataset.error = field;
    error.setAttribute("role", "alert");
    wrap.append(text, input, error);
    li.append(wrap);
  }
  const tools = document.createElement("p");
  tools.className = "segment-tools";
  tools.append(
    button("Move up", "move-up", () => li.previousElementSibling?.before(li)),
    button("Move down", "move-down", () => li.nextElementSibling?.after(li)),
    button("Remove", "remove-segment", () => li.remove()),
  );
  li.append(tools);
  return li;
}

/// The plan as the editor's fields say, in the API's shape.
function editedPlan() {
  const segments = [...$("edit-segments").children].map((li) => {
    const value = (field) => li.querySelector(`[data-field="${field}"]`).value.trim();
    const segment = { title: value("title"), duration: value("duration") };
    for (const field of ["form", "density", "end", "notes", "draw"]) {
      if (value(field)) segment[field] = value(field);
    }
    for (const field of ["entries", "rotation"]) {
      const names = value(field).split("\n").map((n) => n.trim()).filter(Boolean);
      if (names.length) segment[field] = names;
    }
    const warnings = value("warnings").split(",").map((w) => w.trim()).filter(Boolean);
    if (warnings.length) segment.warnings = warnings;
    return segment;
  });
  const plan = { name: $("plan-title").value.trim(), segments };
  const description = $("plan-description").value.trim();
  if (description) plan.description = description;
  return plan;
}

function clearEditorErrors() {
  for (const el of $("editor").querySelectorAll(".field-error")) el.textContent = "";
  for (const el of $("editor").querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  $("editor-error").textContent = "";
}

/// Puts each of the server's problems ("segments[1] \"B\": duration: empty duration",
/// "name: is empty") beside the field it concerns; the rest under the form.
function showPlanProblems(detail) {
  const problems = detail.replace(/^the plan has problems: /, "").split("; ");
  const rest = [];
  const segments = [...$("edit-segments").children];
  for (const problem of problems) {
    const inSegment = problem.match(/^segments\[(\d+)\][^:]*: (\w+)(?:\[\d+\])?: (.*)$/);
    const inPlan = problem.match(/^(name|description|segments): (.*)$/);
    let scope = null, field = null, text = problem;
    if (inSegment && segments[Number(inSegment[1])]) {
      [scope, field, text] = [segments[Number(inSegment[1])], inSegment[2], inSegment[3]];
    } else if (inPlan && inPlan[1] !== "segments") {
      [scope, field, text] = [$("editor-form"), inPlan[1], inPlan[2]];
    }
    const error = scope?.querySelector(`.field-error[data-error="${field}"]`);
    if (error) {
      error.textContent = text;
      scope.querySelector(`[data-field="${field}"]`)?.setAttribute("aria-invalid", "true");
    } else {
      rest.push(problem);
    }
  }
  $("editor-error").textContent = rest.join("; ");
  $("editor").querySelector("[aria-invalid]")?.focus();
}

async function saveEditedPlan() {
  clearEditorErrors();
  const id = $("plan-id").value.trim();
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(id)) {
    $("editor").querySelector('.field-error[data-error="id"]').textContent =
      "lowercase letters and digits, words joined by single hyphens (e.g. team-drill)";
    $("plan-id").setAttribute("aria-invalid", "true");
    $("plan-id").focus();
    return;
  }
  $("editor-save").disabled = true;
  try {
    await api("PUT", `/v1/plans/${id}`, editedPlan());
    closeEditor();
    await loadPlans();
    say(`Saved the plan ${id}`);
  } catch (error) {
    if (error.status === 422) showPlanProblems(error.message);
    else $("editor-error").textContent = error.message;
  } finally {
    $("editor-save").disabled = false;
  }
}

async function deleteEditedPlan() {
  const id = app.editing?.id;
  if (!id) return;
  try {
    await api("DELETE", `/v1/plans/${encodeURIComponent(id)}`);
    closeEditor();
    await loadPlans();
    say(`Deleted the plan ${id}`);
  } catch (error) {
    $("editor-error").textContent = error.message;
  }
}

$("new-plan").addEventListener("click", () => openEditor(null));
$("add-segment").addEventListener("click", () => {
  const li = segmentEditor({ title: "", duration: "10m" });
  $("edit-segments").append(li);
  li.querySelector('[data-field="title"]').focus();
});
$("editor-form").addEventListener("submit", (e) => { e.preventDefault(); saveEditedPlan(); });
$("editor-cancel").addEventListener("click", closeEditor);
$("editor-delete").addEventListener("click", deleteEditedPlan);

async function startPlan(plan, button) {
  button.disabled = true;
  try {
    // Rehearsing at ×10 or ×60 plays a plan's whole gong cycle quickly.
    const speed = Number($("speed").value) || 1;
    const request = speed === 1 ? { plan_id: plan.id } : { plan_id: plan.id, speed };
    const snapshot = await api("POST", "/v1/session", request);
    app.patternKey = "";
    applySnapshot(snapshot);
    say(`Started ${plan.name}. The opening phrase plays, then segment 1 begins.`);
    $("btn-pause").focus();
  } catch (error) {
    say(`Could not start ${plan.name}: ${error.message}`, "error");
  } finally {
    button.disabled = !app.connected;
  }
}

async function loadInstruments() {
  app.instrumentsLoaded = true;
  let instruments;
  try {
    instruments = await api("GET", "/v1/instruments");
  } catch (error) {
    app.instrumentsLoaded = false;
    return;
  }
  const order = ["gong", "suwukan", "kempul", "kenong", "ketuk", "kempyang", "bonang", "saron"];
  instruments.sort((a, b) => rank(order, a.name) - rank(order, b.name) || a.name.localeCompare(b.name));
  $("pad").replaceChildren(...instruments.map((instrument) => instrumentButtons(instrument, {
    className: `cue sym-${instrument.name}`,
    pitchClassName: "cue pitch",
    pitchData: (pitch) => { pitch.dataset.pitchOf = instrument.name; },
    pitchLabel: (variant) => `${instrument.name} pitch ${variant}`,
    play: (variant, button) => strike(instrument.name, variant),
  })));
}

// An instrument's button and, for a pitched one (kenong 1–6, saron 1–7…), a small button
// per pitch: the cue pad's and a pack preview's. `play(variant, button)` strikes it
// (`variant` undefined for the instrument's own button).
function instrumentButtons(instrument, { className, label, pitchClassName, pitchData, pitchLabel, play }) {
  const group = document.createElement("div");
  group.className = "cue-group";
  const button = document.createElement("button");
  button.type = "button";
  button.className = className;
  button.dataset.instrument = instrument.name;
  button.textContent = instrument.name;
  if (label) button.setAttribute("aria-label", label);
  button.disabled = !app.connected;
  button.addEventListener("click", () => play(undefined, button));
  group.append(button);
  if (instrument.variants > 1) {
    const pitches = document.createElement("div");
    pitches.className = "pitches";
    for (let variant = 1; variant <= instrument.variants; variant++) {
      const pitch = document.createElement("button");
      pitch.type = "button";
      pitch.className = pitchClassName;
      pitchData(pitch, variant);
      pitch.textContent = String(variant);
      pitch.setAttribute("aria-label", pitchLabel(variant));
      pitch.disabled = !app.connected;
      pitch.addEventListener("click", () => play(variant, pitch));
      pitches.append(pitch);
    }
    group.append(pitches);
  }
  return group;
}

function rank(order, name) {
  const i = order.indexOf(name);
  return i === -1 ? order.length : i;
}

async function strike(instrument, variant) {
  const name = variant ? `${instrument} ${variant}` : instrument;
  try {
    const answer = await api("POST", "/v1/cues", variant ? { instrument, variant } : { instrument });
    if (answer.coalesced) say(`${name}: already sounding (a repeat within a moment plays once).`);
  } catch (error) {
    say(`Could not strike ${name}: ${error.message}`, "error");
  }
}

// ---------------------------------------------------------------------------------------
// Sound: the master volume, the packs (list, activate, preview) and uploads

function formatDb(db) {
  const rounded = Math.round(db * 10) / 10;
  return `${rounded > 0 ? "+" : rounded < 0 ? "−" : ""}${Math.abs(rounded)} dB`;
}

/// Shows the volume the server has; the slider is left alone while this page is still
/// sending a change of its own (the latest wins, and the server's answer follows).
function applyVolume(volume) {
  app.volume = { volume_db: volume.volume_db, muted: volume.muted };
  const slider = $("volume");
  if (!app.volumeSending && app.volumeWanted === null) slider.value = String(volume.volume_db);
  showVolume(Number(slider.value), volume.muted);
}

function showVolume(db, muted) {
  $("volume-value").textContent = muted ? `${formatDb(db)} · muted` : formatDb(db);
  $("volume").setAttribute("aria-valuetext", muted ? `${formatDb(db)}, muted` : formatDb(db));
  const mute = $("mute");
  mute.setAttribute("aria-pressed", String(muted));
  document.body.dataset.muted = String(muted);
}

function onVolume(event) {
  const changed = !app.volume || app.volume.muted !== event.muted || app.volume.volume_db !== event.volume_db;
  applyVolume(event);
  if (changed && event.by !== "page") {
    log(event.muted ? `Muted${who(event)}` : `Volume ${formatDb(event.volume_db)}${who(event)}`);
  }
}

/// Sends the slider's level: one request at a time, the newest value last, so dragging
/// does not queue up dozens of changes and the room ends at where the slider stopped.
async function sendVolume(db) {
  app.volumeWanted = db;
  showVolume(db, app.volume?.muted ?? false);
  if (app.volumeSending) return;
  app.volumeSending = true;
  try {
    while (app.volumeWanted !== null) {
      const wanted = app.volumeWanted;
      app.volumeWanted = null;
      const volume = await api("PUT", "/v1/volume", { volume_db: wanted });
      app.volume = volume;
    }
  } catch (error) {
    app.volumeWanted = null;
    say(`Could not change the volume: ${error.message}`, "error");
  } finally {
    app.volumeSending = false;
    if (app.volume) applyVolume(app.volume);
  }
}

async function toggleMute() {
  const muted = !(app.volume?.muted ?? false);
  try {
    applyVolume(await api("PUT", "/v1/volume", { muted }));
    log(muted ? "Muted: the session goes on silently" : "Sound back on");
  } catch (error) {
    say(`Could not ${muted ? "mute" : "unmute"}: ${error.message}`, "error");
  }
}

async function loadPacks() {
  let packs;
  try {
    packs = await api("GET", "/v1/packs");
  } catch (error) {
    say(`Could not list the sound packs: ${error.message}`, "error");
    return;
  }
  app.packs = packs;
  const active = packs.find((p) => p.active);
  if (active) app.activePack = active.id;
  const open = new Set([...document.querySelectorAll(".pack [aria-expanded='true']")]
    .map((b) => b.closest(".pack").dataset.pack));
  $("packs").replaceChildren(...packs.map((pack) => packCard(pack, open.has(pack.id))));
}

function packCard(pack, expanded) {
  const li = document.createElement("li");
  li.className = pack.active ? "pack active" : "pack";
  li.dataset.pack = pack.id;
  if (pack.active) li.setAttribute("aria-current", "true");
  const h = document.createElement("h5");
  h.textContent = pack.name || pack.id;
  if (pack.name !== pack.id) {
    const id = document.createElement("span");
    id.className = "pack-id";
    id.textContent = pack.id;
    h.append(id);
  }
  const meta = document.createElement("p");
  meta.className = "meta";
  meta.textContent = [
    pack.author ? `by ${pack.author}` : "",
    pack.licence,
    `${pack.instruments} instrument${pack.instruments === 1 ? "" : "s"}`,
    pack.source,
  ].filter(Boolean).join(" · ");
  const description = document.createElement("p");
  description.className = "description";
  description.textContent = pack.description || "";
  const fallback = document.createElement("p");
  fallback.className = "fallback";
  const borrowed = pack.falls_back || [];
  fallback.hidden = borrowed.length === 0;
  fallback.textContent = `Heard from the default pack (this pack has no sound for them): ${borrowed.join(", ")}`;
  const actions = document.createElement("div");
  actions.className = "pack-actions";
  if (pack.active) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "Active";
    actions.append(badge);
  } else {
    const use = document.createElement("button");
    use.type = "button";
    use.className = "activate";
    use.textContent = "Use this pack";
    use.setAttribute("aria-label", `Use the pack ${pack.name || pack.id}`);
    use.disabled = !app.connected;
    use.addEventListener("click", () => activatePack(pack, use));
    actions.append(use);
  }
  const listen = document.createElement("button");
  listen.type = "button";
  listen.className = "listen";
  listen.textContent = "Preview sounds";
  listen.setAttribute("aria-expanded", "false");
  listen.setAttribute("aria-label", `Preview the sounds of ${pack.name || pack.id}`);
  listen.disabled = !app.connected;
  const previews = document.createElement("div");
  previews.className = "previews";
  previews.id = `previews-${pack.id}`;
  previews.hidden = true;
  previews.setAttribute("role", "group");
  previews.setAttribute("aria-label", `Sounds of ${pack.name || pack.id}`);
  listen.setAttribute("aria-controls", previews.id);
  listen.addEventListener("click", () => togglePreviews(pack, listen, previews));
  const heard = document.createElement("p");
  heard.className = "heard";
  heard.setAttribute("aria-live", "polite");
  actions.append(listen);
  li.append(h, meta, description, fallback, actions, previews, heard);
  if (expanded) togglePreviews(pack, listen, previews);
  return li;
}

async function activatePack(pack, button) {
  button.disabled = true;
  try {
    const info = await api("POST", `/v1/packs/${encodeURIComponent(pack.id)}/activate`);
    app.activePack = info.id;
    log(`Pack: ${info.name || info.id} is now active`);
    await loadPacks();
    loadInstruments();
    const card = document.querySelector(`.pack[data-pack="${CSS.escape(info.id)}"] .listen`);
    if (card) card.focus();
  } catch (error) {
    button.disabled = !app.connected;
    say(`Could not use ${pack.name || pack.id}: ${error.message}`, "error");
  }
}

async function togglePreviews(pack, button, box) {
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  box.hidden = !open;
  if (!open || box.childElementCount) return;
  let instruments;
  try {
    instruments = await api("GET", `/v1/packs/${encodeURIComponent(pack.id)}/instruments`);
  } catch (error) {
    const p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = `Cannot load this pack's sounds: ${error.message}`;
    box.replaceChildren(p);
    return;
  }
  // The pack's own sounds: what it borrows from the default pack is named on its card.
  const own = instruments.filter((instrument) => !instrument.from_default);
  box.replaceChildren(...own.map((instrument) => instrumentButtons(instrument, {
    className: "preview",
    label: `Preview ${instrument.name}`,
    pitchClassName: "preview pitch",
    pitchData: (pitch, variant) => {
      pitch.dataset.instrument = instrument.name;
      pitch.dataset.variant = String(variant);
    },
    pitchLabel: (variant) => `Preview ${instrument.name} ${variant}`,
    play: (variant, button) => preview(pack, instrument.name, variant, button),
  })));
}

async function preview(pack, instrument, variant, button) {
  const name = variant ? `${instrument} ${variant}` : instrument;
  try {
    const body = variant ? { instrument, variant } : { instrument };
    const answer = await api("POST", `/v1/packs/${encodeURIComponent(pack.id)}/preview`, body);
    const early = app.recentCues.get(answer.id);
    if (early) onPreviewPlayed(early, { pack, button }, name);
    else app.previews.set(answer.id, { pack, button });
    if (app.volume?.muted) say("Muted: the preview plays silently. Unmute to hear it.");
  } catch (error) {
    say(`Could not preview ${name} from ${pack.name || pack.id}: ${error.message}`, "error");
  }
}

function onPreviewPlayed(cue, preview, name) {
  app.previews.delete(cue.id);
  const card = document.querySelector(`.pack[data-pack="${CSS.escape(preview.pack.id)}"] .heard`);
  if (card) {
    card.textContent = `Heard ${name}`;
    card.dataset.id = String(cue.id);
  }
  log(`Preview: ${name} from ${preview.pack.name || preview.pack.id}`);
  const button = preview.button;
  if (button?.isConnected) {
    button.classList.remove("struck");
    void button.offsetWidth; // restart the animation
    button.classList.add("struck");
  }
}

/// The media types the upload route takes, by the archive's file name.
const ARCHIVE_TYPES = [
  [".tar.gz", "application/gzip"],
  [".tgz", "application/gzip"],
  [".tar", "application/x-tar"],
  [".zip", "application/zip"],
];

function archiveType(fileName) {
  const lower = fileName.toLowerCase();
  return ARCHIVE_TYPES.find(([ending]) => lower.endsWith(ending)) ?? null;
}

/// A pack name from an archive's file name: without its extension, lowercased, anything
/// a pack name cannot hold turned into single hyphens (`Team Sounds.tar.gz` → `team-sounds`).
function packNameOf(fileName, ending) {
  return fileName.slice(0, fileName.length - ending.length).toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64).replace(/-+$/, "");
}

function setDrop(state) {
  $("drop").dataset.state = state;
}

function uploadError(title, detail) {
  $("upload-status").textContent = "";
  const box = $("upload-error");
  const strong = document.createElement("strong");
  strong.textContent = title;
  const text = document.createElement("span");
  text.textContent = detail || "";
  box.replaceChildren(strong, text);
  setDrop("failed");
}

function clearUploadMessages() {
  $("upload-error").replaceChildren();
  $("upload-status").textContent = "";
}

/// An archive was dropped or chosen: check its kind, then ask for the name (prefilled).
function stageArchive(file) {
  clearUploadMessages();
  $("upload-progress").hidden = true;
  const type = archiveType(file.name);
  if (!type) {
    app.staged = null;
    $("upload-form").hidden = true;
    uploadError(`${file.name} is not a pack archive`, "Use a .tar, .tar.gz, .tgz or .zip file holding pack.toml and its sounds.");
    return;
  }
  app.staged = { file, type: type[1] };
  setDrop("idle");
  $("upload-file").textContent = `${file.name} (${formatBytes(file.size)})`;
  $("upload-name").value = packNameOf(file.name, type[0]);
  $("upload-form").hidden = false;
  $("upload-name").focus();
  $("upload-name").select();
}

function formatBytes(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/// PUTs the staged archive as it is (the raw file), with its progress; the server's
/// problem answer is shown where the drop happened, title and detail (naming the entry).
function uploadStaged(event) {
  event.preventDefault();
  const staged = app.staged;
  const input = $("upload-name");
  if (!staged) return;
  const name = input.value.trim();
  if (!input.checkValidity() || !name) {
    uploadError("That name cannot name a pack", "Use lowercase letters, digits and single hyphens, like team-sounds.");
    input.focus();
    return;
  }
  clearUploadMessages();
  const progress = $("upload-progress");
  progress.hidden = false;
  progress.value = 0;
  $("upload-send").disabled = true;
  setDrop("busy");
  const xhr = new XMLHttpRequest();
  xhr.open("PUT", `/v1/packs/${encodeURIComponent(name)}`);
  xhr.withCredentials = true;
  xhr.setRequestHeader("Content-Type", staged.type);
  xhr.upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    const percent = Math.round((e.loaded / e.total) * 100);
    progress.value = percent;
    $("upload-status").textContent = `Uploading ${name}: ${percent} %`;
  });
  xhr.addEventListener("load", () => {
    $("upload-send").disabled = !app.connected;
    progress.hidden = true;
    let data = null;
    try {
      data = JSON.parse(xhr.responseText);
    } catch {
      data = null;
    }
    if (xhr.status === 200 || xhr.status === 201) {
      const verb = xhr.status === 201 ? "Installed" : "Replaced";
      $("upload-status").textContent = `${verb} ${data?.name || name}: ${data?.instruments ?? "?"} instruments. Preview it below, or use it.`;
      setDrop("done");
      $("upload-form").hidden = true;
      app.staged = null;
      log(`Pack ${data?.id || name} ${verb.toLowerCase()}`);
      loadPacks();
      return;
    }
    if (xhr.status === 401) askToken();
    uploadError(
      `Upload refused (${xhr.status}${data?.title ? ` ${data.title}` : ""})`,
      data?.detail || xhr.statusText || "the server gave no reason",
    );
  });
  xhr.addEventListener("error", () => {
    $("upload-send").disabled = !app.connected;
    progress.hidden = true;
    uploadError("Upload failed", "The connection broke before the server answered.");
  });
  xhr.send(staged.file);
}

function cancelUpload() {
  app.staged = null;
  $("upload-form").hidden = true;
  clearUploadMessages();
  setDrop("idle");
  $("pack-choose").focus();
}

function initSound() {
  const slider = $("volume");
  slider.addEventListener("input", () => sendVolume(Number(slider.value)));
  $("mute").addEventListener("click", toggleMute);
  const drop = $("drop");
  // Dragging over the whole panel would be surprising; over the drop zone it is expected.
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    setDrop("over");
  });
  drop.addEventListener("dragleave", () => setDrop("idle"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer?.files?.[0];
    if (file) stageArchive(file);
    else setDrop("idle");
  });
  $("pack-choose").addEventListener("click", () => $("pack-file").click());
  $("pack-file").addEventListener("change", (event) => {
    const file = event.target.files?.[0];
    if (file) stageArchive(file);
    event.target.value = "";
  });
  $("upload-form").addEventListener("submit", uploadStaged);
  $("upload-cancel").addEventListener("click", cancelUpload);
}

// ---------------------------------------------------------------------------------------
// Controls and keys

/// What each command sends besides who acted: `value` is its seconds, or its segment.
const COMMAND_BODIES = {
  extend: (seconds) => ({ seconds }),
  shorten: (seconds) => ({ seconds }),
  "time-left": (seconds) => ({ seconds }),
  jump: (segment) => ({ segment }),
};

async function command(action, value) {
  if (app.busy) return;
  app.busy = true;
  try {
    const body = COMMAND_BODIES[action]?.(value) ?? {};
    const snapshot = await api("POST", `/v1/session/${action}`, body);
    applySnapshot(snapshot);
    renderLive();
  } catch (error) {
    say(error.message, "error");
  } finally {
    app.busy = false;
  }
}

function onControl(event) {
  const button = event.target.closest("button[data-action]");
  if (!button || button.disabled) return;
  const action = button.dataset.action;
  if (action === "stop") {
    // Two steps: ending the session by a slip of the hand would be hard to undo.
    if (app.stopArmed) {
      disarmStop();
      command("stop");
    } else {
      button.classList.add("armed");
      button.querySelector(".label").textContent = "Really stop?";
      app.stopArmed = setTimeout(disarmStop, 4000);
    }
    return;
  }
  command(action, Number(button.dataset.segment ?? button.dataset.seconds ?? 0));
}

function disarmStop() {
  clearTimeout(app.stopArmed);
  app.stopArmed = null;
  const button = $("btn-stop");
  button.classList.remove("armed");
  button.querySelector(".label").textContent = "Stop";
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("input, textarea, select, dialog")) return;
  const live = app.live;
  const running = live && live.state !== "finished" && !$("session").hidden;
  if (!running || !app.connected) return;
  let action = null;
  if (event.key === " " || event.code === "Space") action = live.state === "paused" ? "resume" : "pause";
  else if (event.key === "n" || event.key === "N") action = "next";
  else if (event.key === "p" || event.key === "P") action = "previous";
  else if (event.key === "+") action = "extend";
  else if (event.key === "-") action = "shorten";
  else if ((event.key === "s" || event.key === "S") && !$("spin-box").hidden) action = "spin";
  if (!action) return;
  // Space always means pause/resume while a session runs (Enter still presses the
  // focused button), so a facilitator never triggers "next" by accident.
  event.preventDefault();
  command(action, 60);
}

/// "Set the time left": `5:00`, `90s`, `2m`, `1m30s`, or a bare number of minutes.
async function setTimeLeft(text) {
  $("time-error").textContent = "";
  const seconds = parseTimeLeft(text);
  if (seconds === null) {
    $("time-error").textContent = `"${text.trim()}" is not a time: write it like 5:00, 90s or 2m`;
    return;
  }
  try {
    applySnapshot(await api("POST", "/v1/session/time-left", { seconds }));
    renderLive();
    $("time-text").value = "";
  } catch (error) {
    $("time-error").textContent = error.message;
  }
}

function parseTimeLeft(text) {
  const t = text.trim().toLowerCase();
  let m = t.match(/^(\d+):([0-5]\d)$/);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  if (/^\d+$/.test(t)) return Number(t) * 60;
  m = t.match(/^(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$/);
  if (t && m && (m[1] || m[2] || m[3])) {
    return Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0);
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Rotation and the wheel of entries

/// "Ana's turn · then Budi" under the clock, in a segment with a rotation.
function renderTurn(snapshot) {
  const el = $("turn");
  const turn = snapshot.state !== "finished" ? snapshot.turn : null;
  el.hidden = !turn;
  if (!turn) return;
  const who = document.createElement("strong");
  who.textContent = turn.person;
  el.replaceChildren(who, `'s turn (${turn.turn + 1} of ${turn.of})`);
  if (turn.next) el.append(` · then ${turn.next}`);
  el.dataset.person = turn.person;
}

/// The wheel of the current segment's entries, if it has one; a spin in progress (from a
/// snapshot taken mid-spin) is picked up where it is.
function renderSpinBox(snapshot) {
  const wheel = snapshot.wheel;
  $("spin-box").hidden = !wheel;
  if (!wheel) {
    app.spin = null;
    return;
  }
  drawSpinDisc(wheel.entries);
  $("btn-spin").disabled = !app.connected;
  const last = wheel.last;
  // A spin still turning must not give its pick away.
  const spinning = last && snapshot.now.seconds < last.land_seconds;
  const drawn = spinning ? wheel.drawn.slice(0, -1) : wheel.drawn;
  $("spin-drawn").textContent = drawn.length && wheel.draw === "without-repetition"
    ? `Drawn this round: ${drawn.join(", ")}`
    : "";
  for (const slice of $("spin-disc").querySelectorAll(".slice")) {
    const shaded = wheel.draw === "without-repetition" && drawn.includes(slice.dataset.entry);
    slice.classList.toggle("drawn", shaded);
  }
  if (last && last.segment === snapshot.segment) {
    startSpin(last, snapshot.now.seconds);
  } else if (!app.spin || app.spin.spin.segment !== snapshot.segment) {
    // A wheel another segment spun waits where it stopped, for this segment's first spin.
    app.spin = null;
    setDiscPosition(last ? last.index : 0, wheel.entries.length);
    clearLanding("Spin to pick one.");
  }
}

function drawSpinDisc(entries) {
  const key = entries.join("\u0000");
  if (key === app.discKey) return;
  app.discKey = key;
  const n = entries.length;
  const r = 100;
  const size = n > 24 ? 6 : n > 12 ? 8 : n > 6 ? 10 : 12;
  const parts = entries.map((entry, i) => {
    // Entry i is centred at i/n of a turn, clockwise from the top (where the pointer is).
    const g = document.createElementNS(SVG, "g");
    const slice = document.createElementNS(SVG, "path");
    const a0 = (i - 0.5) / n, a1 = (i + 0.5) / n;
    const [x0, y0] = polar(a0, r), [x1, y1] = polar(a1, r);
    slice.setAttribute("d", n === 1
      ? `M 0 ${-r} A ${r} ${r} 0 1 1 0 ${r} A ${r} ${r} 0 1 1 0 ${-r} Z`
      : `M 0 0 L ${x0.toFixed(2)} ${y0.toFixed(2)} A ${r} ${r} 0 ${n <= 2 ? 1 : 0} 1 ${x1.toFixed(2)} ${y1.toFixed(2)} Z`);
    slice.setAttribute("class", `slice ${i % 2 ? "odd" : "even"}`);
    slice.dataset.entry = entry;
    slice.dataset.index = String(i);
    // The label runs outward along its slice, from near the hub to the rim.
    const label = document.createElementNS(SVG, "text");
    const angle = (i / n) * 360 - 90;
    label.setAttribute("transform", `rotate(${angle.toFixed(2)}) translate(${r * 0.2} 0)`);
    label.setAttribute("text-anchor", "start");
    label.setAttribute("font-size", String(size));
    label.dataset.index = String(i);
    const room = Math.floor((r * 0.76) / (size * 0.56));
    label.textContent = entry.length > room ? `${entry.slice(0, room - 1)}…` : entry;
    const full = document.createElementNS(SVG, "title");
    full.textContent = entry;
    g.append(full);
    g.append(slice, label);
    return g;
  });
  $("spin-disc").replaceChildren(...parts);
}

/// Turns the disc so that `position` (in entries, fractional) is under the pointer.
function setDiscPosition(position, n) {
  const degrees = -(position / Math.max(1, n)) * 360;
  $("spin-disc").setAttribute("transform", `rotate(${degrees.toFixed(3)})`);
  $("spin-wheel").dataset.position = position.toFixed(3);
}

/// Follows a spin (from its event, or a snapshot's `wheel.last`): the same path the bonang
/// run follows on the server, `steps·(1 − (1 − x)²)` entries after a fraction `x` of it,
/// landing on the picked entry as the gong sounds. `nowSeconds` is the session time the
/// spin was seen at.
function startSpin(spin, nowSeconds) {
  const key = `${spin.segment}@${spin.start_seconds}`;
  if (app.spin?.key === key) return;
  const length = (spin.land_seconds - spin.start_seconds) * 1000;
  const t0 = performance.now() - (nowSeconds - spin.start_seconds) * 1000;
  app.spin = { key, spin, t0, length, landed: false };
  drawSpinDisc(spin.entries);
  clearLanding("Spinning…");
  // Animation frames stop in a hidden tab; the landing is shown all the same.
  const current = app.spin;
  setTimeout(() => {
    if (app.spin === current && !current.landed) landSpin(current);
  }, Math.max(0, t0 + length - performance.now()) + 40);
  stepSpin();
}

/// Nothing is landed on: the result says `text`, no slice is lit.
function clearLanding(text) {
  const result = $("spin-result");
  result.textContent = text;
  result.classList.remove("landed", "spinning");
  delete result.dataset.entry;
  delete $("spin-wheel").dataset.landed;
  for (const part of $("spin-disc").querySelectorAll(".landed")) part.classList.remove("landed");
}

function stepSpin() {
  const current = app.spin;
  if (!current || current.landed) return;
  const { spin, t0, length } = current;
  const x = length > 0 ? Math.min(1, Math.max(0, (performance.now() - t0) / length)) : 1;
  const n = spin.entries.length;
  setDiscPosition(spin.from + spin.steps * (1 - (1 - x) * (1 - x)), n);
  if (x < 1) {
    const result = $("spin-result");
    result.textContent = "Spinning…";
    result.classList.add("spinning");
    requestAnimationFrame(stepSpin);
    return;
  }
  landSpin(current);
}

function landSpin(current) {
  current.landed = true;
  const { spin } = current;
  setDiscPosition(spin.index, spin.entries.length);
  for (const part of $("spin-disc").querySelectorAll(".slice, text")) {
    part.classList.toggle("landed", Number(part.dataset.index) === spin.index);
  }
  const result = $("spin-result");
  result.classList.remove("spinning");
  result.classList.add("landed");
  result.textContent = spin.entry;
  result.dataset.entry = spin.entry;
  $("spin-wheel").dataset.landed = String(spin.index);
  if (current.t0 + current.length > performance.now() - 2000) {
    log(`The wheel picked ${spin.entry}`);
    refreshSession(); // what has been drawn, now that it can be told
  }
}

// ---------------------------------------------------------------------------------------
// Formatting

function formatClock(seconds) {
  const s = Math.max(0, Math.ceil(seconds - 0.05));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

function parseClock(text) {
  return text.split(":").reduce((acc, part) => acc * 60 + Number(part), 0);
}

function formatDuration(seconds) {
  const s = Math.round(seconds);
  if (s >= 3600 && s % 60 === 0) {
    const h = Math.floor(s / 3600);
    const m = (s % 3600) / 60;
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  if (s >= 60 && s % 60 === 0) return `${s / 60} min`;
  return formatClock(s);
}

function spoken(seconds) {
  const s = Math.max(0, Math.ceil(seconds - 0.05));
  const m = Math.floor(s / 60);
  const rest = s % 60;
  const parts = [];
  if (m) parts.push(`${m} minute${m === 1 ? "" : "s"}`);
  if (rest || !m) parts.push(`${rest} second${rest === 1 ? "" : "s"}`);
  return parts.join(" ");
}

/// A warning's lead as the server writes it (`5m`, `1h30m`) in words.
function humanLead(lead) {
  const units = { h: "h", m: "min", s: "s", ms: "ms" };
  return String(lead).replace(/(\d+)(ms|h|m|s)/g, (_, n, unit) => `${n} ${units[unit]} `).trim();
}

function log(text) {
  const list = $("log");
  const item = document.createElement("li");
  const time = document.createElement("time");
  const now = new Date();
  time.textContent = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  item.append(time, ` ${text}`);
  list.prepend(item);
  while (list.children.length > LOG_LENGTH) list.lastElementChild.remove();
}

// ---------------------------------------------------------------------------------------
// Start

function init() {
  document.querySelector(".controls").addEventListener("click", onControl);
  $("segments").addEventListener("click", onControl);
  $("spin-box").addEventListener("click", onControl);
  $("time-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setTimeLeft($("time-text").value);
  });
  initSound();
  if (LISTENING) {
    // A listener reads and hears; it has no keys to steer with and no token to ask for.
    initEar();
    connect();
    return;
  }
  document.addEventListener("keydown", onKey);
  $("logout").addEventListener("click", async () => {
    try {
      await api("POST", "/v1/logout");
    } finally {
      $("logout").hidden = true;
      askToken();
    }
  });
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    login($("token").value.trim());
  });
  $("login").addEventListener("cancel", (event) => event.preventDefault());
  const params = new URLSearchParams(location.search);
  const token = params.get("token");
  if (token) {
    // A link with ?token= logs in once; the token leaves the address bar at once.
    history.replaceState(null, "", location.pathname);
    login(token);
  } else {
    connect();
  }
}

init();
