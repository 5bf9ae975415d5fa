// The board's queue strip: the callers waiting in each of the phone system's queues and
// how long the longest has waited. The page renders it (web/queue_strip.py) with each
// caller waiting; the stream's queue.* events then say who joined and who stopped waiting
// (answered, abandoned, left), each with its queue, call id and when it joined, so the
// strip follows them from the events alone, without asking the server again. The log
// writes a queue.* event only when the callers waiting change (and a reconnect of the
// phone system writes the joins and leaves it missed), so the events and the strip agree.
const strip = document.getElementById("queue-strip");
const template = document.getElementById("queue-template");
// queue name: Map(call id: joined ms)
const waiting = new Map(
  Object.entries(JSON.parse(document.getElementById("queues").textContent)).map(
    ([name, callers]) => [name, new Map(callers)],
  ),
);

function itemOf(name) {
  for (const item of strip.querySelectorAll(".queue[data-queue]")) {
    if (item.dataset.queue === name) return item;
  }
  // A queue first heard of now: placed by name, as the page orders them.
  const item = template.content.firstElementChild.cloneNode(true);
  item.dataset.queue = name;
  item.querySelector(".queue-name").textContent = name;
  const after = [...strip.querySelectorAll(".queue[data-queue]")].find(
    (other) => other.dataset.queue.localeCompare(name) > 0,
  );
  strip.insertBefore(item, after || template);
  strip.hidden = false;
  return item;
}

function show(name) {
  const callers = waiting.get(name) || new Map();
  const item = itemOf(name);
  item.dataset.waiting = String(callers.size);
  item.querySelector(".queue-count").textContent = String(callers.size);
  const longest = item.querySelector(".queue-longest");
  longest.hidden = callers.size === 0;
  const oldest = Math.min(...callers.values());
  const timer = longest.querySelector("time-in-status");
  if (callers.size > 0 && timer.getAttribute("since") !== String(oldest)) {
    timer.setAttribute("since", String(oldest));
  }
}

export function queueChanged(type, event) {
  // The event's queue object (domain/history_event.py queue_json): name, call_id, joined_at.
  const queue = event.queue;
  if (!queue || typeof queue.name !== "string" || typeof queue.call_id !== "string") return;
  const callers = waiting.get(queue.name) || new Map();
  waiting.set(queue.name, callers);
  if (type === "queue.caller_joined") {
    callers.set(queue.call_id, Date.parse(queue.joined_at) || Date.parse(event.at));
  } else {
    callers.delete(queue.call_id);
  }
  show(queue.name);
}

export const QUEUE_EVENTS = [
  "queue.caller_joined",
  "queue.caller_answered",
  "queue.caller_abandoned",
  "queue.caller_left",
];
