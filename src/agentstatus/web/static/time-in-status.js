// <time-in-status since="ms or ISO" limit="seconds">: how long ago `since` was, as H:MM:SS,
// kept current by one shared ticker for every element on the page. Past the status's limit
// (when it has one) the element gets `data-overdue`, which the page's style highlights. The text is computed from the clock on
// every tick (hidden tabs throttle timers: counting ticks would drift) and written only
// when it changes.
const live = new Set();
let ticker = null;
// Replay sets the page's clock to a past instant (an "agentstatus:clock" event); null is now.
let fixedNow = null;
const now = () => (fixedNow === null ? Date.now() : fixedNow);

function format(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

function tick() {
  const at = now();
  for (const element of live) element.update(at);
}

document.addEventListener("agentstatus:clock", (event) => {
  fixedNow = event.detail.now;
  tick();
});

class TimeInStatus extends HTMLElement {
  static observedAttributes = ["since", "limit"];

  connectedCallback() {
    live.add(this);
    if (ticker === null) ticker = setInterval(tick, 1000);
    this.update(now());
  }

  disconnectedCallback() {
    live.delete(this);
    if (live.size === 0 && ticker !== null) {
      clearInterval(ticker);
      ticker = null;
    }
  }

  attributeChangedCallback() {
    const since = this.getAttribute("since") || "";
    this.sinceMs = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
    const limit = this.getAttribute("limit");
    this.limitMs = limit ? Number(limit) * 1000 : null;
    if (this.isConnected) this.update(now());
  }

  update(now) {
    if (Number.isNaN(this.sinceMs)) return;
    const text = format(now - this.sinceMs);
    if (this.textContent !== text) this.textContent = text;
    const overdue = this.limitMs !== null && now - this.sinceMs > this.limitMs;
    if (overdue !== this.hasAttribute("data-overdue")) this.toggleAttribute("data-overdue", overdue);
  }
}

customElements.define("time-in-status", TimeInStatus);
