// The wall: a tile per agent, filled with its status's colour, sorted (over the limit
// first, then by status, then the longest in it first), and the queues' figures above.
//
// Everything comes from /o/{org}/wall/state, then the organisation's event stream from
// where the state ends (/o/{org}/wall/events, resumed by Last-Event-ID after a drop). The
// stream is read with fetch() so that a wall opened by a link (#token=... in the address,
// never sent to a server) can send its token as Authorization: Bearer. Changes are queued
// and applied once per animation frame: a tile is touched once per frame whatever the
// number of its events, and only the tiles that changed move.
const body = document.body;
const org = body.dataset.org;
const base = `/o/${encodeURIComponent(org)}/wall`;
const grid = document.getElementById("wall");
const banner = document.getElementById("wall-connection");
const empty = document.getElementById("wall-empty");
const queuesBox = document.getElementById("wall-queues");
const noQueues = document.getElementById("wall-no-queues");
const fullScreen = document.getElementById("wall-full-screen");
const tileTemplate = document.getElementById("wall-tile").content.firstElementChild;
const queueTemplate = document.getElementById("wall-queue").content.firstElementChild;
const text = JSON.parse(document.getElementById("wall-text").textContent);
const LOGOUT = 2;
const CHANGES = new Set(["agent.login", "agent.logout", "agent.status", "agent.wrap_up_started"]);
const CALLS = new Set(["call.started", "call.answered", "call.held", "call.resumed", "call.ended"]);
const RETRY_MS = [1000, 2000, 4000, 8000, 15000];
// The server writes a comment every 15 s: a stream silent for longer is a dead one (a
// network that dropped without closing the connection) and is opened again.
const SILENCE_MS = 40000;

// A wall link's token, from the fragment; taken out of the address bar (kept in memory).
const token = (() => {
  const found = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!found) return null;
  history.replaceState(history.state, "", location.pathname + location.search);
  try {
    return decodeURIComponent(found[1]);
  } catch {
    return null;
  }
})();
if (token !== null) body.dataset.viewer = "link";

function request(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(`${base}${path}`, {
    ...options,
    headers,
    credentials: token === null ? "same-origin" : "omit",
    cache: "no-store",
  });
}

// -- the catalogue and the agents ---------------------------------------------------------

let catalogue = new Map(); // status id: {name, color, ink, available, limit_seconds, rank}
let wrapUpStatus = null;
const agents = new Map(); // user id: the agent's record (its tile is record.tile)
const order = []; // the records in the wall's order, as the tiles are in the grid

function rankOf(status) {
  if (status === LOGOUT) return 1e9; // logged out: after everyone at work
  const known = catalogue.get(status);
  return known ? known.rank : 1e8 + status;
}

function compare(a, b) {
  return (
    Number(b.overdue) - Number(a.overdue) ||
    rankOf(a.status) - rankOf(b.status) ||
    a.sinceMs - b.sinceMs ||
    (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0)
  );
}

function isOverdue(record, now) {
  const known = catalogue.get(record.status);
  return Boolean(known && known.limit_seconds) && now - record.sinceMs > known.limit_seconds * 1000;
}

function makeTile(record) {
  const tile = tileTemplate.cloneNode(true);
  tile.dataset.userId = record.userId;
  record.tile = tile;
  record.nameEl = tile.querySelector(".wall-name");
  record.statusEl = tile.querySelector(".wall-status");
  record.timer = tile.querySelector("time-in-status");
  record.callEl = tile.querySelector(".wall-call");
  record.nextEl = tile.querySelector(".wall-next");
  record.lineEl = tile.querySelector(".wall-line");
  record.nameEl.textContent = record.name || record.userId;
  tile.title = record.name ? `${record.name} (${record.userId})` : record.userId;
  return tile;
}

// The tile shows the record: one write per thing that changed.
function paint(record) {
  const { tile } = record;
  const known = catalogue.get(record.status);
  if (tile.dataset.status !== String(record.status)) {
    tile.dataset.status = String(record.status);
    tile.style.setProperty("--st", known ? known.color : "#7f8c8d");
    tile.style.setProperty("--ink", known ? known.ink : "#000000");
    record.statusEl.textContent = known ? known.name : String(record.status);
  }
  const limit = known && known.limit_seconds ? String(known.limit_seconds) : null;
  if (record.timer.getAttribute("limit") !== limit) {
    if (limit === null) record.timer.removeAttribute("limit");
    else record.timer.setAttribute("limit", limit);
  }
  if (record.timer.getAttribute("since") !== String(record.sinceMs)) {
    record.timer.setAttribute("since", String(record.sinceMs));
  }
  tile.toggleAttribute("data-overdue", record.overdue);
  tile.dataset.logout = record.status === LOGOUT ? "yes" : "no";
  paintCall(record);
  paintNext(record);
  record.lineEl.hidden = record.callEl.hidden && record.nextEl.hidden;
}

function callState(record) {
  return [...record.calls.values()].pop();
}

function paintCall(record) {
  const state = callState(record);
  record.callEl.hidden = state === undefined;
  record.callEl.dataset.call = state || "";
  record.callEl.textContent = state ? text.calls[state] || state : "";
  record.tile.dataset.onCall = state ? "yes" : "no";
}

function paintNext(record) {
  const status = record.next;
  const hidden = status === null || status === undefined;
  const known = catalogue.get(status);
  record.nextEl.hidden = hidden;
  record.nextEl.dataset.next = hidden ? "" : String(status);
  record.nextEl.textContent = hidden ? "" : `${text.arrow} ${known ? known.name : status}`;
  if (hidden) record.nextEl.removeAttribute("title");
  else record.nextEl.title = text.next_status;
}

// The record's place in `order` (binary search; `order` is sorted without it).
function placeOf(record) {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (compare(order[middle], record) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

// Only the tile that changed moves: out of its place, into its new one.
function reposition(record) {
  const at = order.indexOf(record);
  if (at >= 0) order.splice(at, 1);
  const place = placeOf(record);
  order.splice(place, 0, record);
  const next = order[place + 1] ? order[place + 1].tile : null;
  if (record.tile.nextSibling !== next || record.tile.parentNode !== grid) {
    grid.insertBefore(record.tile, next);
  }
}

function recordOf(agent) {
  return {
    userId: agent.user_id,
    name: agent.name || "",
    status: agent.status,
    sinceMs: agent.since_ms,
    calls: new Map((agent.calls || []).map((c) => [c.id, c.state])),
    next: agent.next_status ?? null,
    overdue: false,
    tile: null,
  };
}

// The whole wall from a state (the first load, and after a stream too far behind).
function build(state) {
  catalogue = new Map(state.statuses.map((s, rank) => [s.id, { ...s, rank }]));
  wrapUpStatus = state.wrap_up_status;
  agents.clear();
  order.length = 0;
  const now = Date.now();
  for (const agent of state.agents) {
    const record = recordOf(agent);
    record.overdue = isOverdue(record, now);
    agents.set(record.userId, record);
    makeTile(record);
    paint(record);
    order.push(record);
  }
  order.sort(compare);
  // Sized before the tiles go in: measuring the grid after would lay out every tile twice.
  showQueues(state.queues);
  countFloor();
  layout();
  const fragment = document.createDocumentFragment();
  for (const record of order) fragment.append(record.tile);
  grid.replaceChildren(fragment);
  grid.removeAttribute("aria-busy");
  // The wall is read and shown: the tests and the benchmark wait for this.
  if (body.dataset.ready !== "1") {
    body.dataset.ready = "1";
    performance.mark("wall-ready");
  }
}

// -- changes, one frame at a time ---------------------------------------------------------

const pending = new Map(); // user id: the latest change not yet shown
let frame = 0;

function schedule() {
  if (frame === 0) frame = requestAnimationFrame(flush);
}

function flush() {
  frame = 0;
  const now = Date.now();
  let added = false;
  for (const [userId, change] of pending) {
    let record = agents.get(userId);
    if (record === undefined) {
      // An agent added since the state was read: its name comes with the next load.
      record = recordOf({ user_id: userId, status: change.status, since_ms: change.sinceMs });
      agents.set(userId, record);
      makeTile(record);
      added = true;
    }
    if (change.status !== undefined) {
      record.status = change.status;
      record.sinceMs = change.sinceMs;
      record.overdue = isOverdue(record, now);
    }
    if ("next" in change) record.next = change.next;
    paint(record);
    reposition(record);
  }
  pending.clear();
  countFloor();
  if (added) layout();
}

function queueChange(userId, change) {
  pending.set(userId, { ...(pending.get(userId) || {}), ...change });
  schedule();
}

function changed(event) {
  const change = { status: event.new.status, sinceMs: Date.parse(event.at) };
  // Any applied change clears the status queued as next, but the move into wrap-up keeps it
  // (merged in order: a status queued after this change, in the same frame, wins).
  if (event.type !== "agent.wrap_up_started") change.next = null;
  queueChange(event.user_id, change);
}

function nextChanged(event) {
  if (!agents.has(event.user_id) && !pending.has(event.user_id)) return;
  queueChange(event.user_id, { next: event.detail ? event.detail.status : null });
}

function callChanged(type, event) {
  const record = agents.get(event.user_id);
  if (record === undefined || !event.call) return;
  if (type === "call.ended") record.calls.delete(event.call.id);
  else record.calls.set(event.call.id, event.call.state);
  queueChange(event.user_id, {});
}

// Once a second: who went over their status's limit moves to the front.
setInterval(() => {
  const now = Date.now();
  let moved = false;
  for (const record of agents.values()) {
    const overdue = isOverdue(record, now);
    if (overdue !== record.overdue) {
      record.overdue = overdue;
      record.tile.toggleAttribute("data-overdue", overdue);
      reposition(record);
      moved = true;
    }
  }
  if (moved) countFloor();
}, 1000);

// -- the floor's counts (from the tiles' records) -------------------------------------------

const counters = new Map(
  [...document.querySelectorAll("[data-count]")].map((el) => [el.dataset.count, el]),
);

function kindOf(record) {
  if (record.calls.size > 0) return "on-call";
  if (record.status === LOGOUT) return null;
  if (record.status === wrapUpStatus) return "wrap-up";
  const known = catalogue.get(record.status);
  return known && known.available ? "available" : "break";
}

function countFloor() {
  const counts = { available: 0, "on-call": 0, "wrap-up": 0, break: 0 };
  for (const record of agents.values()) {
    const kind = kindOf(record);
    if (kind !== null) counts[kind] += 1;
  }
  for (const [key, element] of counters) {
    const value = String(counts[key] ?? 0);
    if (element.textContent !== value) element.textContent = value;
  }
  empty.hidden = agents.size > 0;
}

// -- the queues -----------------------------------------------------------------------------

const percent = new Intl.NumberFormat(document.documentElement.lang, {
  style: "percent",
  maximumFractionDigits: 0,
});
const shownQueues = new Map(); // queue name: its element

function showQueues(queues) {
  const seen = new Set();
  for (const queue of queues) {
    seen.add(queue.name);
    let box = shownQueues.get(queue.name);
    if (box === undefined) {
      box = queueTemplate.cloneNode(true);
      box.dataset.queue = queue.name;
      box.querySelector(".wall-queue-name").textContent = queue.name;
      shownQueues.set(queue.name, box);
      queuesBox.append(box);
    }
    box.dataset.waiting = String(queue.waiting);
    box.querySelector(".wall-waiting").textContent = String(queue.waiting);
    const timer = box.querySelector(".wall-longest time-in-status");
    const none = box.querySelector(".wall-longest .wall-none");
    timer.hidden = queue.longest_since_ms === null;
    none.hidden = !timer.hidden;
    if (!timer.hidden) timer.setAttribute("since", String(queue.longest_since_ms));
    const level = box.querySelector(".wall-service-level");
    level.textContent =
      queue.service_level === null ? text.no_figure : percent.format(queue.service_level);
    box.dataset.busy = queue.waiting > 0 ? "yes" : "no";
  }
  for (const [name, box] of shownQueues) {
    if (!seen.has(name)) {
      box.remove();
      shownQueues.delete(name);
    }
  }
  noQueues.hidden = shownQueues.size > 0;
}

// A queue's event asks for its figures again: one read in flight, and one more after it
// when events came meanwhile (so a burst of callers costs two reads, not one each).
let queuesReading = false;
let queuesAgain = false;

async function readQueues() {
  if (queuesReading) {
    queuesAgain = true;
    return;
  }
  queuesReading = true;
  try {
    do {
      queuesAgain = false;
      const answer = await request("/queues");
      if (answer.ok) showQueues((await answer.json()).queues);
    } while (queuesAgain);
  } catch {
    // the stream's reconnect reads the whole state again
  } finally {
    queuesReading = false;
  }
}

// -- the layout: every tile on the screen -------------------------------------------------
// The columns that give the largest text: a tile holds about 11 characters across and
// four lines (name, status, time and call, next status); the text shrinks with the tiles.

function layout() {
  const count = Math.max(1, agents.size);
  const top = grid.getBoundingClientRect().top;
  const width = grid.clientWidth;
  const height = Math.max(40, window.innerHeight - top - 6);
  const gap = count > 400 ? 2 : count > 100 ? 4 : 8;
  let best = { font: 0, columns: 1, rowHeight: height };
  for (let columns = 1; columns <= count; columns += 1) {
    const rows = Math.ceil(count / columns);
    const tileWidth = (width - gap * (columns - 1)) / columns;
    const rowHeight = Math.floor((height - gap * (rows - 1)) / rows);
    if (tileWidth <= 0) break; // narrower still will not do better
    if (rowHeight <= 0) continue; // too many rows: more columns
    const font = Math.min(tileWidth / 10, rowHeight / 5);
    if (font > best.font) best = { font, columns, rowHeight };
  }
  const font = Math.min(best.font, 30);
  grid.style.setProperty("--columns", String(best.columns));
  grid.style.setProperty("--row", `${Math.min(best.rowHeight, Math.ceil(font * 7))}px`);
  grid.style.setProperty("--gap", `${gap}px`);
  grid.style.setProperty("--tile-font", `${Math.max(5, font).toFixed(2)}px`);
  body.dataset.density = font < 9 ? "dense" : font < 14 ? "compact" : "roomy";
}

let resizing = 0;
function relayout() {
  cancelAnimationFrame(resizing);
  resizing = requestAnimationFrame(layout);
}
window.addEventListener("resize", relayout);
// The header grows when a queue is first heard of (or wraps on a narrow screen).
new ResizeObserver(relayout).observe(document.querySelector(".wall-head"));

// -- full screen ------------------------------------------------------------------------------

if (document.fullscreenEnabled) {
  fullScreen.hidden = false;
  fullScreen.addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(() => {});
  });
  document.addEventListener("fullscreenchange", () => {
    const on = document.fullscreenElement !== null;
    fullScreen.setAttribute("aria-pressed", String(on));
    fullScreen.textContent = on ? text.leave_full_screen : text.full_screen;
  });
}

// -- the stream -------------------------------------------------------------------------------

// Server-Sent Events from a fetch() body: yields {id, event, data} per blank-line-ended block.
async function* serverSentEvents(stream, alive) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    alive();
    buffer += value;
    let end;
    while ((end = buffer.search(/\r\n\r\n|\n\n|\r\r/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith("\r\n\r\n", end) ? 4 : 2));
      const message = { id: null, event: "message", data: [] };
      for (const line of block.split(/\r\n|\n|\r/)) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") message.data.push(value);
        else if (field === "event") message.event = value;
        else if (field === "id") message.id = value;
      }
      if (message.data.length) yield { ...message, data: message.data.join("\n") };
    }
  }
}

let lastId = null;
let attempt = 0;
let loaded = false;
let reconnectedTimer = 0;

function setBanner(state, words) {
  banner.dataset.state = state;
  banner.textContent = words;
  body.dataset.connection = state;
}

// A refused wall: without a link, the visitor signs in (and comes back here); with one,
// the server's words say why (unknown, expired, revoked), in the viewer's language.
class Refusal extends Error {
  constructor(words) {
    super("refused");
    this.words = words;
  }
}

async function refusal(answer) {
  if (token === null && answer.status === 401) {
    location.assign(`/sign-in?next=${encodeURIComponent(location.pathname)}`);
  }
  let words = text.refused;
  try {
    const said = await answer.json();
    if (said.title) words = said.detail ? `${said.title}. ${said.detail}` : said.title;
  } catch {
    // not JSON: the generic words
  }
  return new Refusal(words);
}

async function loadState() {
  const answer = await request("/state");
  if (answer.status === 401 || answer.status === 403) throw await refusal(answer);
  if (!answer.ok) throw new Error(`state: ${answer.status}`);
  const state = await answer.json();
  build(state);
  lastId = String(state.cursor);
  loaded = true;
}

function receive(message) {
  let data;
  try {
    data = JSON.parse(message.data);
  } catch {
    return;
  }
  const type = message.event;
  if (CHANGES.has(type)) changed(data);
  else if (type === "agent.next_status") nextChanged(data);
  else if (CALLS.has(type)) callChanged(type, data);
  else if (type.startsWith("queue.")) readQueues();
}

async function run() {
  for (;;) {
    const dropped = attempt > 0;
    const abort = new AbortController();
    let silence = 0;
    const alive = () => {
      clearTimeout(silence);
      silence = setTimeout(() => abort.abort(), SILENCE_MS);
    };
    try {
      if (!loaded) await loadState();
      const headers = { accept: "text/event-stream" };
      if (lastId !== null) headers["last-event-id"] = lastId;
      const answer = await request("/events", { headers, signal: abort.signal });
      if (answer.status === 401 || answer.status === 403) throw await refusal(answer);
      if (!answer.ok) throw new Error(`events: ${answer.status}`);
      if (dropped) {
        // Caught up from the history (Last-Event-ID); the queues' figures are read anew.
        readQueues();
        setBanner("reconnected", text.reconnected);
        clearTimeout(reconnectedTimer);
        reconnectedTimer = setTimeout(() => setBanner("live", text.live), 3000);
      } else {
        setBanner("live", text.live);
      }
      attempt = 0;
      alive();
      for await (const message of serverSentEvents(answer.body, alive)) {
        if (message.id !== null) lastId = message.id;
        if (message.event === "snapshot") {
          loaded = false; // too far behind to catch up: the whole wall is read again
          lastId = null;
          break;
        }
        receive(message);
      }
    } catch (error) {
      if (error instanceof Refusal) {
        setBanner("refused", error.words);
        attempt = RETRY_MS.length - 1; // a session may come back (signed in elsewhere)
      }
    } finally {
      clearTimeout(silence);
      abort.abort();
    }
    clearTimeout(reconnectedTimer); // a "Reconnected" due later must not hide this drop
    if (banner.dataset.state !== "refused") setBanner("disconnected", text.disconnected);
    const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
    attempt += 1;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

run();
