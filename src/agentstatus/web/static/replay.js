// Replay on the board: the floor at a past instant (from the history), then played forward
// at a chosen speed; "Back to live" reloads the live board. The page's clock (the timers)
// follows the replayed instant.
const TICK_MS = 200;
const LOOKAHEAD_TICKS = 25;

export function setupReplay(board) {
  const form = document.querySelector("form[data-replay]");
  if (form === null) return;
  const input = form.querySelector("#replay-at");
  const speed = form.querySelector("#replay-speed");
  const error = form.querySelector("[data-replay-error]");
  const play = form.querySelector("[data-replay-play]");
  const pause = form.querySelector("[data-replay-pause]");
  const base = `/o/${encodeURIComponent(board.org)}/replay`;
  const banner = document.getElementById("replay-banner");
  const instant = banner.querySelector("[data-replay-instant]");
  const live = banner.querySelector("[data-replay-back]");
  const clockLabel = new Intl.DateTimeFormat(document.documentElement.lang, {
    dateStyle: "medium",
    timeStyle: "medium",
    timeZone: document.body.dataset.timezone,
  });

  let clock = null; // the replayed instant, ms
  let after = 0; // the last event id fetched
  let fetchedUntil = 0; // every event up to this instant is fetched
  let queue = [];
  let timer = null;
  let fetching = false;

  function setClock(ms) {
    clock = ms;
    document.body.dataset.replayAt = String(ms);
    document.dispatchEvent(new CustomEvent("agentstatus:clock", { detail: { now: ms } }));
    const label = clockLabel.format(new Date(ms));
    board.setBanner("replay", `${board.text.replay} ${label}`);
    instant.textContent = label;
  }

  function fail(message) {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
  }

  async function getJson(url) {
    const answer = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await answer.json().catch(() => ({ detail: board.text.failed }));
    if (!answer.ok) throw new Error(body.detail || board.text.failed);
    return body;
  }

  async function show() {
    stop();
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    let floor;
    try {
      floor = await getJson(`${base}/floor?at=${encodeURIComponent(input.value)}`);
    } catch (problem) {
      fail(problem.message);
      return;
    }
    board.pauseLive();
    // Unmistakable: the banner with the instant, the board tinted, and no action shown
    // (app.css hides them in this mode; board.js refuses them too).
    document.body.dataset.mode = "replay";
    banner.hidden = false;
    board.showFloor(floor.agents);
    after = floor.cursor;
    fetchedUntil = floor.at_ms;
    queue = [];
    setClock(floor.at_ms);
    play.hidden = false;
  }

  async function fill() {
    const horizon = Math.min(Date.now(), clock + TICK_MS * Number(speed.value) * LOOKAHEAD_TICKS);
    if (fetching || fetchedUntil >= horizon) return;
    fetching = true;
    try {
      const page = await getJson(`${base}/events?after=${after}&until=${Math.floor(horizon)}`);
      queue.push(...page.events);
      // Past the page even when every row of it was left out (warnings, calls).
      if (page.next_after !== null) after = page.next_after;
      else if (page.events.length) after = page.events[page.events.length - 1].id;
      if (page.next_after === null) fetchedUntil = horizon;
    } catch (problem) {
      stop();
      fail(problem.message);
    } finally {
      fetching = false;
    }
  }

  async function step() {
    const next = Math.min(Date.now(), clock + TICK_MS * Number(speed.value));
    while (queue.length && queue[0].at_ms <= next) board.applyChange(queue.shift());
    setClock(next);
    if (next >= Date.now() && queue.length === 0) {
      stop();
      return;
    }
    await fill();
  }

  function start() {
    if (timer !== null || clock === null) return;
    timer = setInterval(step, TICK_MS);
    play.hidden = true;
    pause.hidden = false;
    fill();
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    pause.hidden = true;
    if (clock !== null) play.hidden = false;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  play.addEventListener("click", start);
  pause.addEventListener("click", stop);
  live.addEventListener("click", () => window.location.reload());
}
