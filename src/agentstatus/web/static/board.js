// The live floor board: one EventSource for the page, each event patches one row (and two
// tile counts). Filtering and sorting work on the rows already in the table.
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
const rows = new Map([...tbody.rows].map((row) => [row.dataset.userId, row]));
const LOGOUT = 2;

const filter = { text: "", status: "" };
let sort = { key: "name", direction: 1 };

// -- filtering --------------------------------------------------------------------------

function statusOf(row) {
  return row.querySelector("[data-status]").dataset.status;
}

function matches(row) {
  if (filter.status !== "" && statusOf(row) !== filter.status) return false;
  if (filter.text === "") return true;
  const haystack = [
    row.dataset.name,
    row.dataset.userId,
    row.querySelector(".extension").textContent,
  ].join(" ").toLowerCase();
  return haystack.includes(filter.text);
}

function applyFilter(row) {
  row.hidden = !matches(row);
}

function applyFilters() {
  for (const row of rows.values()) applyFilter(row);
  showEmpty();
}

function showEmpty() {
  empty.hidden = [...rows.values()].some((row) => !row.hidden);
}

function setStatusFilter(value) {
  filter.status = value;
  document.getElementById("filter-status").value = value;
  for (const tile of document.querySelectorAll("[data-filter-status]")) {
    tile.setAttribute("aria-pressed", String(tile.dataset.filterStatus === value));
  }
  applyFilters();
}

document.getElementById("filter-text").addEventListener("input", (event) => {
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
  event.preventDefault(); // the filters apply as they are typed
});
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

// -- sorting ----------------------------------------------------------------------------

const collator = new Intl.Collator(document.documentElement.lang, { numeric: true });

function sortValue(row, key) {
  if (key === "status") {
    const status = catalogue.get(Number(statusOf(row)));
    return status ? status.name : statusOf(row);
  }
  if (key === "since") return Number(row.dataset.since);
  return row.dataset.name || row.dataset.userId;
}

function compare(a, b) {
  const { key, direction } = sort;
  const x = sortValue(a, key);
  const y = sortValue(b, key);
  const order = typeof x === "number" ? x - y : collator.compare(x, y);
  return direction * (order || collator.compare(a.dataset.userId, b.dataset.userId));
}

function sortAll() {
  const sorted = [...rows.values()].sort(compare);
  tbody.append(...sorted);
}

// Only the row that changed moves: its place is found among the others, already sorted.
function reposition(row) {
  let next = null;
  for (const other of tbody.rows) {
    if (other !== row && compare(row, other) < 0) {
      next = other;
      break;
    }
  }
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

// -- live updates -----------------------------------------------------------------------

function addRow(userId) {
  const row = tbody.rows[0] ? tbody.rows[0].cloneNode(true) : null;
  if (row === null) return null; // an empty board is rebuilt by a reload
  row.dataset.userId = userId;
  row.dataset.name = "";
  const link = row.querySelector(".name a");
  link.textContent = userId;
  link.href = `/o/${encodeURIComponent(org)}/agents/${encodeURIComponent(userId)}`;
  row.querySelector(".user-id").textContent = userId;
  const form = row.querySelector("form[data-logout]");
  form.action = `/o/${encodeURIComponent(org)}/agents/${encodeURIComponent(userId)}/logout`;
  tbody.append(row);
  rows.set(userId, row);
  return row;
}

function bump(key, delta) {
  const counter = document.querySelector(`[data-count="${key}"]`);
  if (counter) counter.textContent = String(Number(counter.textContent) + delta);
}

function patch(event) {
  let row = rows.get(event.user_id);
  if (row === undefined) {
    row = addRow(event.user_id);
    if (row === null) return;
    bump("all", 1);
  } else {
    bump(statusOf(row), -1);
  }
  const status = catalogue.get(event.new.status);
  const badge = row.querySelector("[data-status]");
  badge.className = `status-badge st-${event.new.status}`;
  badge.dataset.status = String(event.new.status);
  badge.querySelector(".status-name").textContent = status ? status.name : String(event.new.status);
  bump(String(event.new.status), 1);
  row.querySelector(".extension").textContent = event.new.extension || "";
  const since = Date.parse(event.at);
  row.dataset.since = String(since);
  row.querySelector("time-in-status").setAttribute("since", event.at);
  const available = Boolean(status && status.available);
  const calls = row.querySelector(".takes-calls");
  calls.dataset.available = available ? "yes" : "no";
  calls.textContent = available ? text.yes : text.no;
  row.querySelector("form[data-logout]").hidden =
    event.new.status === LOGOUT && !event.new.extension;
  applyFilter(row);
  if (sort.key !== "name") reposition(row);
  showEmpty();
}

function setBanner(state, message) {
  banner.dataset.state = state;
  banner.textContent = message;
}

let dropped = false;

function connect() {
  const url = `/o/${encodeURIComponent(org)}/events?after=${body.dataset.cursor}`;
  const source = new EventSource(url);
  for (const type of ["agent.login", "agent.logout", "agent.status"]) {
    source.addEventListener(type, (message) => patch(JSON.parse(message.data)));
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
}

// -- force logout -----------------------------------------------------------------------

tbody.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-logout]");
  if (!form) return;
  event.preventDefault();
  const button = form.querySelector("button");
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

for (const select of document.querySelectorAll("select[data-navigate]")) {
  select.addEventListener("change", () => select.form.submit());
}

sortAll();
connect();
