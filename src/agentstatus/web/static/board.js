// The live floor board: one EventSource for the page, each event patches one row (and two
// tile counts). Filtering and sorting work on the rows already in the table. Replay
// (replay.js) shows the floor of a past instant in the same rows.
import { QUEUE_EVENTS, queueChanged } from "./board-queues.js";
import { ask } from "./confirm.js";
import { setupReplay } from "./replay.js";
import { setupStatusMenu } from "./status-menu.js";

const body = document.body;
const org = body.dataset.org;
const table = document.getElementById("board");
const tbody = table.tBodies[0];
const banner = document.getElementById("connection");
const empty = document.getElementById("board-empty");
const text = JSON.parse(document.getElementById("board-text").textContent);
const catalogue = new Map(
  JSON.parse(document.getElementById("catalogue").textContent).map((s) => [s.id, s]),
);
// A compact page of many rows sends them in a template (board.html): none in the table yet.
const outside = document.getElementById("board-rows");
const served = outside ? [...outside.content.querySelectorAll("tr[data-user-id]")] : [...tbody.rows];
const rows = new Map(served.map((row) => [row.dataset.userId, row]));
// Every row in the order shown, whether in the document or not: past VIRTUAL_PAST rows the
// compact board keeps only the rows in view in the table (see "the rows in view" below);
// the others are kept here and changed all the same, so a row scrolled into view is current.
const ordered = [...rows.values()];
const LOGOUT = 2;
// A large organisation's board is in pages (web/pages/board.py): the search and the tiles
// ask the server, and changes of agents on other pages only move the counts.
const paged = body.dataset.paged === "yes";

const filter = { text: "", status: "" };
let sort = { key: "name", direction: 1 };

// -- filtering --------------------------------------------------------------------------

function statusOf(row) {
  return row.querySelector("[data-status]").dataset.status;
}

function nameOf(row) {
  return row.cells[0].textContent;
}

function matches(row) {
  if (filter.status !== "" && statusOf(row) !== filter.status) return false;
  if (filter.text === "") return true;
  const haystack = [
    nameOf(row),
    row.dataset.userId,
    row.querySelector(".extension").textContent,
  ].join(" ").toLowerCase();
  return haystack.includes(filter.text);
}

function applyFilter(row) {
  const hidden = row.dataset.absent === "yes" || !matches(row);
  if (hidden !== row.hidden && windowed) schedulePaint();
  row.hidden = hidden;
}

function applyFilters() {
  for (const row of rows.values()) applyFilter(row);
  showEmpty();
}

function showEmpty() {
  empty.hidden = [...rows.values()].some((row) => !row.hidden);
}

function setStatusFilter(value) {
  if (paged) {
    const query = new URLSearchParams({ q: document.getElementById("filter-text").value });
    if (value !== "") query.set("status", value);
    window.location.search = query.toString();
    return;
  }
  filter.status = value;
  document.getElementById("filter-status").value = value;
  for (const tile of document.querySelectorAll("[data-filter-status]")) {
    tile.setAttribute("aria-pressed", String(tile.dataset.filterStatus === value));
  }
  applyFilters();
}

document.getElementById("filter-text").addEventListener("input", (event) => {
  if (paged) return; // searched on the server when the form is sent
  filter.text = event.target.value.trim().toLowerCase();
  applyFilters();
});
document.getElementById("filter-status").addEventListener("change", (event) => {
  setStatusFilter(event.target.value);
});
for (const tile of document.querySelectorAll("[data-filter-status]")) {
  tile.addEventListener("click", () => setStatusFilter(tile.dataset.filterStatus));
}
document.querySelector("[data-board-filters]").addEventListener("submit", (event) => {
  if (!paged) event.preventDefault(); // the filters apply as they are typed
});

// -- sorting ----------------------------------------------------------------------------

const collator = new Intl.Collator(document.documentElement.lang, { numeric: true });

function sortValue(row, key) {
  if (key === "status") {
    const status = catalogue.get(Number(statusOf(row)));
    return status ? status.name : statusOf(row);
  }
  if (key === "since") return Number(row.dataset.since);
  return nameOf(row);
}

function compare(a, b) {
  const { key, direction } = sort;
  const x = sortValue(a, key);
  const y = sortValue(b, key);
  const order = typeof x === "number" ? x - y : collator.compare(x, y);
  return direction * (order || collator.compare(a.dataset.userId, b.dataset.userId));
}

function sortAll() {
  ordered.sort(compare);
  if (windowed) paintWindow();
  else tbody.append(...ordered);
}

// Only the row that changed moves: its place is found among the others, already sorted.
function reposition(row) {
  ordered.splice(ordered.indexOf(row), 1);
  let at = ordered.findIndex((other) => compare(row, other) < 0);
  if (at < 0) at = ordered.length;
  ordered.splice(at, 0, row);
  if (windowed) return schedulePaint();
  const next = ordered[at + 1] || null;
  if (row.nextSibling !== next) tbody.insertBefore(row, next);
}

for (const button of table.querySelectorAll("[data-sort]")) {
  button.addEventListener("click", () => {
    const key = button.dataset.sort;
    sort = { key, direction: sort.key === key ? -sort.direction : 1 };
    for (const th of table.tHead.rows[0].cells) {
      const own = th.querySelector("[data-sort]");
      if (own) {
        const state = own.dataset.sort !== key ? "none" : sort.direction > 0 ? "ascending" : "descending";
        th.setAttribute("aria-sort", state);
      }
    }
    sortAll();
  });
}

// -- density and the rows in view -------------------------------------------------------
// The compact board has rows of 28 px and a header that stays in view (app.css), and is
// remembered in this browser. Past VIRTUAL_PAST rows only the rows in view (and OVERSCAN
// either side) are in the table, between two spacer rows as tall as the rows left out: a
// page of COMPACT_PAGE rows (web/pages/board.py) stays as quick to scroll and to change as
// one of 500. Past one page of the comfortable board the compact board is another page of
// the server's (?view=compact), so switching reloads it.
const COMPACT_KEY = "agentstatus.board.compact";
const VIRTUAL_PAST = Number(body.dataset.virtualPast) || 500;
const OVERSCAN = 15;
let windowed = false;
let rowHeight = 28;
let paintDue = false;
const spacers = ["before", "after"].map((side) => {
  const spacer = document.createElement("tr");
  spacer.className = "spacer";
  spacer.dataset.spacer = side;
  spacer.setAttribute("aria-hidden", "true");
  const cell = document.createElement("td");
  cell.colSpan = table.tHead.rows[0].cells.length;
  spacer.append(cell);
  return spacer;
});

function remembered() {
  try {
    return window.localStorage.getItem(COMPACT_KEY) === "1";
  } catch {
    return false; // storage refused (a private window's policy): the page's own choice
  }
}

function remember(compact) {
  try {
    if (compact) window.localStorage.setItem(COMPACT_KEY, "1");
    else window.localStorage.removeItem(COMPACT_KEY);
  } catch {
    // not remembered; the board still switches
  }
}

function viewAddress(compact) {
  const url = new URL(window.location.href);
  if (compact) url.searchParams.set("view", "compact");
  else url.searchParams.delete("view");
  url.searchParams.delete("page"); // pages of another size: from the first
  return url.toString();
}

function schedulePaint() {
  if (paintDue) return;
  paintDue = true;
  requestAnimationFrame(paintWindow);
}

// The rows that would be in view, placed in the table; the rows already there stay put
// (a focused button keeps its focus while the page scrolls).
function paintWindow() {
  paintDue = false;
  if (!windowed) return;
  const shown = ordered.filter((row) => !row.hidden);
  const [before, after] = spacers;
  if (!before.isConnected) tbody.prepend(before);
  const top = before.getBoundingClientRect().top; // where the first row would be
  const first = Math.min(shown.length, Math.max(0, Math.floor(-top / rowHeight) - OVERSCAN));
  const seen = Math.ceil((window.innerHeight - top) / rowHeight) + OVERSCAN;
  const last = Math.min(shown.length, Math.max(first, seen));
  before.style.blockSize = `${first * rowHeight}px`;
  after.style.blockSize = `${(shown.length - last) * rowHeight}px`;
  const wanted = [before, ...shown.slice(first, last), after];
  const keep = new Set(wanted);
  for (const child of [...tbody.children]) if (!keep.has(child)) child.remove();
  let at = tbody.firstElementChild;
  for (const element of wanted) {
    if (element === at) at = at.nextElementSibling;
    else tbody.insertBefore(element, at);
  }
}

function setWindowed(on) {
  if (on === windowed) return;
  windowed = on;
  if (on) {
    // Every row out at once, before anything asks for a layout (of a table of 2000 rows,
    // seconds); the rows in view come back, and the height of one tells the others'.
    tbody.replaceChildren(...spacers);
    paintWindow();
    const measured = ordered.find((row) => row.isConnected);
    const height = measured ? measured.getBoundingClientRect().height : 0;
    if (height > 0 && height !== rowHeight) {
      rowHeight = height;
      paintWindow();
    }
    window.addEventListener("scroll", schedulePaint, { passive: true });
    window.addEventListener("resize", schedulePaint);
  } else {
    window.removeEventListener("scroll", schedulePaint);
    window.removeEventListener("resize", schedulePaint);
    for (const spacer of spacers) spacer.remove();
    tbody.append(...ordered);
  }
}

function setupDensity() {
  const toggle = document.querySelector("[data-compact-toggle]");
  const served = body.dataset.view === "compact";
  const differ = body.dataset.sizesDiffer === "yes";
  // An address asking for the compact board wins (and is remembered); else this browser's.
  const asked = new URL(window.location.href).searchParams.get("view") === "compact";
  let compact = asked || remembered();
  if (asked) remember(true);
  if (differ && compact !== served) {
    window.location.replace(viewAddress(compact));
    return;
  }
  const apply = () => {
    if (compact) body.dataset.density = "compact";
    else delete body.dataset.density;
    toggle.setAttribute("aria-pressed", String(compact));
    setWindowed(compact && ordered.length > VIRTUAL_PAST);
  };
  apply();
  toggle.addEventListener("click", () => {
    compact = !compact;
    remember(compact);
    if (differ) window.location.assign(viewAddress(compact));
    else apply();
  });
}

// -- live updates -----------------------------------------------------------------------

// An agent's segment of a page address, as web/agent_paths.py writes it: "." and ".."
// cannot be sent as a segment (the browser resolves them), so they go as "~" and hex.
function agentPath(userId) {
  if (userId !== "." && userId !== ".." && !userId.startsWith("~")) {
    return encodeURIComponent(userId);
  }
  const bytes = new TextEncoder().encode(userId);
  return "~" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function addRow(userId) {
  const row = ordered[0] ? ordered[0].cloneNode(true) : null;
  if (row === null) return null; // an empty board is rebuilt by a reload
  row.dataset.userId = userId;
  const link = row.querySelector(".name a");
  link.textContent = userId;
  link.href = `/o/${encodeURIComponent(org)}/agents/${agentPath(userId)}`;
  row.querySelector("form[data-logout-form]").action = `${link.href}/logout`;
  row.querySelector("form[data-status-form]").action = `${link.href}/status`;
  row.querySelector("button[data-set-status]").setAttribute("aria-label", `${text.set_status_label} ${userId}`);
  row.querySelector(".user-id").textContent = userId;
  row.querySelector(".on-call").hidden = true;
  setNext(row, null);
  const button = row.querySelector("button[data-logout]");
  button.setAttribute("aria-label", `${text.log_out_label} ${userId}`);
  ordered.push(row);
  if (windowed) schedulePaint();
  else tbody.append(row);
  rows.set(userId, row);
  return row;
}

function bump(key, delta) {
  const counter = document.querySelector(`[data-count="${key}"]`);
  if (counter) counter.textContent = String(Number(counter.textContent) + delta);
}

// The row's status, extension and since; the tile counts follow.
function setState(row, status, extension, sinceMs) {
  bump(statusOf(row), -1);
  const known = catalogue.get(status);
  const badge = row.querySelector("[data-status]");
  badge.className = `status-badge st-${status}`;
  badge.dataset.status = String(status);
  badge.textContent = known ? known.name : String(status);
  bump(String(status), 1);
  row.querySelector(".extension").textContent = extension || "";
  row.dataset.since = String(sinceMs);
  const timer = row.querySelector("time-in-status");
  if (known && known.limit_seconds) timer.setAttribute("limit", String(known.limit_seconds));
  else timer.removeAttribute("limit");
  timer.setAttribute("since", String(sinceMs));
  const available = Boolean(known && known.available);
  const calls = row.querySelector(".takes-calls");
  calls.dataset.available = available ? "yes" : "no";
  calls.textContent = available ? text.yes : text.no;
  row.querySelector("button[data-logout]").hidden = status === LOGOUT && !extension;
  showPhone(row);
  applyFilter(row);
  if (sort.key !== "name") reposition(row);
}

function patch(event) {
  let row = rows.get(event.user_id);
  if (row === undefined && paged) {
    // An agent on another page: only the counts move.
    if (event.previous) bump(String(event.previous.status), -1);
    bump(String(event.new.status), 1);
    return;
  }
  if (row === undefined) {
    row = addRow(event.user_id);
    if (row === null) return;
    bump("all", 1);
    bump(statusOf(row), 1); // the clone's status, which setState moves from
  }
  setState(row, event.new.status, event.new.extension, Date.parse(event.at));
  // Any applied change clears the status queued as next, but the move into wrap-up keeps it.
  if (event.type !== "agent.wrap_up_started") setNext(row, null);
  showEmpty();
}

// -- phones (when a phone system is connected) ---------------------------------------------

// Each extension's phone as last said (registered, unregistered; absent: unknown).
const phones = new Map(Object.entries(JSON.parse(document.getElementById("phones").textContent)));

function showPhone(row) {
  const state = phones.get(row.querySelector(".extension").textContent) || "unknown";
  const badge = row.querySelector(".phone-offline");
  badge.dataset.phone = state;
  badge.hidden = state !== "unregistered";
}

function phoneChanged(event) {
  if (!event.detail || !event.detail.extension) return;
  phones.set(event.detail.extension, event.detail.phone);
  const row = rows.get(event.user_id);
  if (row !== undefined) showPhone(row);
}

// -- the status queued as next (applied when the agent's call and wrap-up end) ----------

function setNext(row, status) {
  const shown = row.querySelector(".next-status");
  if (!shown) return;
  const known = catalogue.get(status);
  shown.hidden = status === null || status === undefined;
  shown.dataset.next = shown.hidden ? "" : String(status);
  shown.textContent = shown.hidden ? "" : `${text.arrow} ${known ? known.name : status}`;
}

function showNext(event) {
  const row = rows.get(event.user_id);
  if (row !== undefined) setNext(row, event.detail ? event.detail.status : null);
}

// -- live calls (when a phone system is connected) ---------------------------------------

const callsOf = new Map(); // user id: Map(call id: state)

function showCall(event) {
  const row = rows.get(event.user_id);
  if (row === undefined || !event.call) return;
  const mine = callsOf.get(event.user_id) || new Map();
  if (event.type === "call.ended") mine.delete(event.call.id);
  else mine.set(event.call.id, event.call.state);
  callsOf.set(event.user_id, mine);
  const badge = row.querySelector(".on-call");
  const state = [...mine.values()].pop();
  badge.hidden = state === undefined;
  badge.dataset.call = state || "";
  badge.textContent = state ? text.calls[state] || state : "";
}

function setBanner(state, message) {
  banner.dataset.state = state;
  banner.textContent = message;
}

let dropped = false;

let source = null;

function connect() {
  const url = `/o/${encodeURIComponent(org)}/events?after=${body.dataset.cursor}`;
  source = new EventSource(url);
  for (const type of ["agent.login", "agent.logout", "agent.status", "agent.wrap_up_started"]) {
    source.addEventListener(type, (message) => patch(JSON.parse(message.data)));
  }
  source.addEventListener("agent.next_status", (message) => showNext(JSON.parse(message.data)));
  for (const type of ["call.started", "call.answered", "call.held", "call.resumed", "call.ended"]) {
    source.addEventListener(type, (message) => showCall(JSON.parse(message.data)));
  }
  source.addEventListener("extension.phone", (message) => phoneChanged(JSON.parse(message.data)));
  for (const type of QUEUE_EVENTS) {
    source.addEventListener(type, (message) => queueChanged(type, JSON.parse(message.data)));
  }
  source.addEventListener("open", () => {
    setBanner(dropped ? "reconnected" : "live", dropped ? text.reconnected : text.live);
  });
  source.addEventListener("error", () => {
    dropped = true;
    if (source.readyState === EventSource.CLOSED) {
      // Refused (signed out, or the server answered an error): the browser will not retry.
      setBanner("closed", text.signed_out);
    } else {
      setBanner("disconnected", text.disconnected);
    }
  });
  // The server ends a stream that fell too far behind; the browser reconnects with the
  // last id it saw and gets what it missed.
  source.addEventListener("lagged", () => {});
  // A resume from further back than the server keeps for catching up (hours away) is
  // answered with a snapshot instead: the page is read again.
  source.addEventListener("snapshot", () => window.location.reload());
}

// -- force logout -----------------------------------------------------------------------
// Asked first, naming the agent; never from replay (replayed rows are the past, and the
// page shows no action then).

function replaying() {
  return body.dataset.mode === "replay";
}

tbody.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-logout-form]");
  if (!form) return;
  event.preventDefault();
  const row = form.closest("tr");
  const button = form.querySelector("button[data-logout]");
  if (replaying() || button.disabled) return;
  const userId = row.dataset.userId;
  const question = text.log_out_question
    .replace("%(name)s", nameOf(row).trim() || userId)
    .replace("%(user_id)s", userId);
  if (!(await ask(question, text.log_out)) || replaying()) return;
  button.disabled = true;
  try {
    const answer = await fetch(form.action, {
      method: "POST",
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!answer.ok) window.alert(text.failed);
  } catch {
    window.alert(text.failed);
  } finally {
    button.disabled = false;
  }
});

setupStatusMenu({ tbody, text, catalogue, replaying, nameOf });

for (const select of document.querySelectorAll("select[data-navigate]")) {
  select.addEventListener("change", () => select.form.submit());
}

// -- replay -----------------------------------------------------------------------------

function showFloor(agents) {
  const past = new Map(agents.map((a) => [a.user_id, a]));
  for (const [userId, row] of rows) {
    const then = past.get(userId);
    row.dataset.absent = then ? "no" : "yes";
    if (then) setState(row, then.status, then.extension, then.since_ms);
    else row.hidden = true;
  }
  if (windowed) schedulePaint();
  recount();
  showEmpty();
}

function recount() {
  const counts = new Map();
  let all = 0;
  for (const row of rows.values()) {
    if (row.dataset.absent === "yes") continue;
    all += 1;
    counts.set(statusOf(row), (counts.get(statusOf(row)) || 0) + 1);
  }
  for (const counter of document.querySelectorAll("[data-count]")) {
    const key = counter.dataset.count;
    counter.textContent = String(key === "all" ? all : counts.get(key) || 0);
  }
}

setupReplay({
  org,
  text,
  showFloor,
  applyChange(change) {
    const row = rows.get(change.user_id);
    if (row === undefined || row.dataset.absent === "yes") return;
    setState(row, change.new.status, change.new.extension, change.at_ms);
  },
  pauseLive() {
    if (source !== null) source.close();
    source = null;
  },
  setBanner,
});

// The rows come sorted by name from the server; sortAll runs when a header is clicked.
setupDensity();
connect();
// The board is whole: the benchmark and the tests wait for this.
document.body.dataset.ready = "1";
performance.mark("board-ready");
