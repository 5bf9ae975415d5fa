// <agentstatus-panel link="https://status.example.com/panel/ORG#TOKEN" lang="he">: the
// agent's status panel, in a shadow root, in the CRM's page or in the panel page (which
// puts one here without a link: it reads its own address).
//
// The link's token is in the URL's fragment, which a browser never sends to a server nor
// puts in a Referer; here it goes in an Authorization header only, so the panel needs no
// cookie and works in a third-party iframe. One stream per panel: a fetch() read as
// Server-Sent Events (EventSource cannot send the header), resumed by Last-Event-ID.
const LOGOUT = 2;
// The kinds of event that change an agent's presence (domain/event_types.py CHANGE_KINDS);
// the others (a missed call, ...) leave the agent where it was, since when it was.
const CHANGES = new Set(["agent.login", "agent.logout", "agent.status", "agent.wrap_up_started"]);
const RETRY_MS = [1000, 2000, 4000, 8000, 15000];
const RECONNECTED_MS = 3000;
// The callers waiting in the agent's queues are asked this often while the panel is in
// view (not on the stream: it carries the agent's own events only, see api.py queues).
const QUEUES_EVERY_MS = 5000;
// Before the first answer there are no words from the server: these two say why.
const FALLBACK = {
  en: {
    badLink: "This panel link is not valid. Ask your CRM for a new one.",
    unreachable: "The status panel cannot reach agentstatus from this page.",
  },
  he: {
    badLink: "קישור הלוח הזה אינו תקף. בקשו קישור חדש מה-CRM.",
    unreachable: "לוח הסטטוס אינו מצליח להגיע אל agentstatus מהעמוד הזה.",
  },
};
// Answers that end the panel: the link is not (or no longer) good.
const FINAL = new Set(["unknown", "expired", "revoked"]);

// The panel page's own link (no link attribute: the address), read once; then its token
// is taken out of the address bar and the history (it stays in memory, for reconnects).
let pageLink;

function ownLink() {
  if (pageLink === undefined) {
    pageLink = parseLink(location.href);
    if (pageLink && location.hash) {
      history.replaceState(history.state, "", location.pathname + location.search);
    }
  }
  return pageLink;
}

function parseLink(text) {
  let url;
  try {
    url = new URL(text, location.href);
  } catch {
    return null;
  }
  const at = url.pathname.lastIndexOf("/panel/");
  const org = at < 0 ? "" : url.pathname.slice(at + 7).split("/")[0];
  let token;
  try {
    token = decodeURIComponent(url.hash.slice(1));
  } catch {
    return null; // a malformed fragment is not a link
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(org) || !token) return null;
  return { api: `${url.origin}${url.pathname.slice(0, at)}/panel/${org}/api/`, token };
}

function clock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = String(Math.floor((total % 3600) / 60)).padStart(2, "0");
  return `${h}:${m}:${String(total % 60).padStart(2, "0")}`;
}

function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
}

// Server-Sent Events from a fetch() body: yields {id, event, data} per blank-line-ended block.
async function* serverSentEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
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

class AgentstatusPanel extends HTMLElement {
  static observedAttributes = ["link", "lang"];

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    const style = element("link");
    style.rel = "stylesheet";
    style.href = new URL("panel.css", import.meta.url).href;
    this.section = element("section", "panel");
    this.section.setAttribute("aria-busy", "true");
    this.root.append(style, this.section);
    this.generation = 0;
    // Back in view: the queues as they are now, not as they were when it was hidden.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.queueList && !this.ended && this.isConnected) {
        this.askQueues(this.generation);
      }
    });
  }

  connectedCallback() {
    this.schedule();
  }

  disconnectedCallback() {
    this.stop();
  }

  attributeChangedCallback() {
    if (this.isConnected) this.schedule();
  }

  // An upgrade reports every attribute, then the connection: one start for them all.
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.isConnected) this.start();
    });
  }

  fallback(key) {
    const code = (this.getAttribute("lang") || navigator.language || "en").slice(0, 2);
    return (FALLBACK[code] || FALLBACK.en)[key];
  }

  stop() {
    this.generation += 1; // every loop of an older start sees it and ends
    this.abort?.abort();
    clearInterval(this.ticker);
    clearInterval(this.queuesTimer);
    clearTimeout(this.retryTimer);
  }

  start() {
    this.stop();
    this.ended = false;
    this.link = this.hasAttribute("link") ? parseLink(this.getAttribute("link")) : ownLink();
    this.lastId = null;
    this.attempt = 0;
    if (!this.link) {
      this.section.replaceChildren(element("p", "message", this.fallback("badLink")));
      return;
    }
    this.load(this.generation);
  }

  request(path, options = {}) {
    const lang = this.getAttribute("lang");
    const url = new URL(path, this.link.api);
    if (lang) url.searchParams.set("lang", lang);
    const headers = { authorization: `Bearer ${this.link.token}`, ...options.headers };
    return fetch(url, { ...options, headers, credentials: "omit", referrerPolicy: "no-referrer" });
  }

  // The state (who, where, the statuses, the words), then the stream; again after a drop.
  async load(generation) {
    let answer;
    try {
      answer = await this.request("state");
    } catch {
      if (generation !== this.generation) return;
      const refused = this.state ? null : await this.refusedOrigin();
      if (generation !== this.generation) return;
      this.showMessage(this.state ? this.text("disconnected") : refused || this.fallback("unreachable"));
      if (refused) this.section.dataset.refused = "origin";
      return this.retry(generation);
    }
    if (generation !== this.generation) return;
    const body = await answer.json().catch(() => ({}));
    if (generation !== this.generation) return;
    if (!answer.ok) {
      this.showMessage(body.detail || this.fallback("unreachable"));
      if (FINAL.has(body.reason)) return this.end();
      return this.retry(generation);
    }
    this.offset = Date.parse(body.now) - Date.now();
    const first = !this.state;
    this.state = body;
    if (first) this.build();
    else {
      this.section.lang = body.language; // a changed lang attribute is obeyed
      this.section.dir = body.direction;
      this.refreshButtons();
    }
    this.setPresence(body.presence);
    this.setAfterCall(body.after_call);
    this.setQueues(body.queues);
    clearInterval(this.queuesTimer);
    this.queuesTimer = setInterval(() => this.askQueues(generation), QUEUES_EVERY_MS);
    this.connect(generation);
  }

  // A refused origin cannot read the refusal (no CORS header on it): ask the service,
  // which answers any origin, whether this page's origin is the reason, in words naming
  // the origin and how to add it. Null when it is not (or the service is unreachable).
  async refusedOrigin() {
    try {
      const lang = this.getAttribute("lang");
      const url = new URL("embedding", this.link.api);
      if (lang) url.searchParams.set("lang", lang);
      const answer = await fetch(url, { credentials: "omit", referrerPolicy: "no-referrer" });
      const body = await answer.json();
      return body.allowed === false && body.detail ? body.detail : null;
    } catch {
      return null;
    }
  }

  text(key) {
    return this.state?.texts?.[key] || key;
  }

  build() {
    const s = this.state;
    this.section.lang = s.language;
    this.section.dir = s.direction;
    this.section.setAttribute("aria-label", this.text("panel"));
    const header = element("header");
    this.nameLine = element("h2", "agent-name", s.agent.name || s.agent.user_id);
    this.extensionLine = element("p", "extension");
    header.append(this.nameLine, this.extensionLine);
    const current = element("p", "current");
    this.dot = element("span", "dot");
    this.dot.setAttribute("aria-hidden", "true");
    this.statusName = element("span", "status-name");
    this.statusName.setAttribute("role", "status");
    this.timer = element("span", "timer");
    this.timer.setAttribute("aria-label", this.text("time_in_status"));
    this.overdue = element("span", "overdue", this.text("overdue"));
    this.overdue.hidden = true;
    this.onCall = element("span", "on-call");
    this.onCall.hidden = true;
    this.calls = new Map(); // call id: state, from the phone system's events
    // The phone of an extension (its extension and state), from the phone system.
    this.phone = this.state.phone || { extension: null, phone: "unknown" };
    this.phoneOffline = element("span", "phone-offline", this.text("phone_offline"));
    this.phoneOffline.hidden = true;
    current.append(
      this.dot, this.statusName, this.overdue, this.onCall, this.phoneOffline, this.timer,
    );
    this.field = element("label", "extension-field", this.text("extension"));
    this.input = element("input");
    this.input.name = "extension";
    this.input.autocomplete = "off";
    this.input.inputMode = "numeric";
    this.field.append(this.input);
    this.buttons = element("div", "statuses");
    this.buttons.setAttribute("role", "group");
    this.buttons.setAttribute("aria-label", this.text("statuses"));
    this.buttons.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-status]");
      if (button) this.choose(Number(button.dataset.status));
    });
    // Logout apart from the statuses, styled as leaving, and asked first.
    this.logoutRow = element("div", "logout-row");
    this.logoutButton = element("button", "logout");
    this.logoutButton.type = "button";
    this.logoutButton.dataset.status = String(LOGOUT);
    this.logoutButton.addEventListener("click", () => this.askLogout());
    this.logoutRow.append(this.logoutButton);
    this.confirmBox = this.buildConfirm();
    this.message = element("p", "message");
    this.message.setAttribute("role", "alert");
    this.connection = element("p", "connection");
    this.connection.setAttribute("aria-live", "polite");
    this.section.replaceChildren(
      header, current, this.field, this.buttons, this.logoutRow, this.message, this.connection,
      this.confirmBox,
    );
    this.buildAfterCall(current);
    this.queueList = element("ul", "queues");
    this.queueList.setAttribute("aria-label", this.text("queues"));
    this.queueList.hidden = true;
    this.afterCallLine.after(this.queueList);
    this.refreshButtons();
    for (const call of this.state.calls || []) this.calls.set(call.id, call.state);
    this.showCalls();
    this.ticker = setInterval(() => this.tick(), 1000);
  }

  // Below the status: a wrap-up's time left and its Ready button, the status queued next.
  buildAfterCall(current) {
    this.afterCallLine = element("p", "after-call");
    this.afterCallLine.setAttribute("aria-live", "polite");
    this.wrapUpLeft = element("span", "wrap-up-left");
    this.nextLine = element("span", "next-status");
    this.readyButton = element("button", "ready", this.text("ready"));
    this.readyButton.type = "button";
    this.readyButton.addEventListener("click", () => this.ready());
    this.afterCallLine.append(this.wrapUpLeft, this.nextLine, this.readyButton);
    current.after(this.afterCallLine);
  }

  setAfterCall(afterCall) {
    this.afterCall = afterCall || { wrap_up: false, wrap_up_until: null, next_status: null };
    if (!this.afterCallLine) return;
    const { wrap_up: inWrapUp, next_status: next } = this.afterCall;
    this.wrapUntilMs = this.afterCall.wrap_up_until ? Date.parse(this.afterCall.wrap_up_until) : null;
    this.readyButton.hidden = !inWrapUp;
    this.wrapUpLeft.hidden = !inWrapUp;
    const status = this.state.statuses.find((s) => s.id === next);
    const arrow = this.state.direction === "rtl" ? "←" : "→";
    this.nextLine.hidden = next === null || next === undefined;
    this.nextLine.textContent = this.nextLine.hidden ? "" : `${arrow} ${status ? status.name : next}`;
    this.nextLine.title = this.text("next_status");
    this.afterCallLine.hidden = !inWrapUp && this.nextLine.hidden;
    this.tick();
  }

  // The callers waiting in each of the agent's queues (null: no phone system, no list).
  setQueues(queues) {
    if (!this.queueList) return;
    this.queues = queues || [];
    this.queueList.hidden = this.queues.length === 0;
    const items = this.queues.map((queue) => {
      const item = element("li", "queue");
      item.dataset.queue = queue.name;
      item.dataset.waiting = String(queue.waiting);
      item.append(element("span", "queue-waiting"), element("span", "queue-longest"));
      return item;
    });
    this.queueList.replaceChildren(...items);
    this.tick();
  }

  async askQueues(generation) {
    if (document.visibilityState !== "visible") return; // asked again when back in view
    try {
      const answer = await this.request("queues");
      if (!answer.ok || generation !== this.generation) return;
      const body = await answer.json();
      if (generation !== this.generation) return;
      this.offset = Date.parse(body.now) - Date.now();
      this.setQueues(body.queues);
    } catch {
      // asked again on the next round
    }
  }

  showQueues() {
    const now = Date.now() + (this.offset || 0);
    for (const [index, item] of [...this.queueList.children].entries()) {
      const queue = this.queues[index];
      const waiting = this.text("queue_waiting")
        .replace("%(count)s", String(queue.waiting))
        .replace("%(queue)s", queue.name);
      const [count, longest] = item.children;
      if (count.textContent !== waiting) count.textContent = waiting;
      const since = queue.longest_since ? Date.parse(queue.longest_since) : null;
      const wait = since === null ? "" : this.text("queue_longest").replace("%(wait)s", clock(now - since));
      if (longest.textContent !== wait) longest.textContent = wait;
      longest.hidden = wait === "";
    }
  }

  // The agent's events that may start, restart or end a wrap-up: ask what it is now.
  async refreshAfterCall() {
    try {
      const answer = await this.request("wrapup");
      if (answer.ok) this.setAfterCall(await answer.json());
    } catch {
      // the stream's reconnect reloads the state
    }
  }

  async ready() {
    this.readyButton.disabled = true;
    try {
      const answer = await this.request("ready", { method: "POST" });
      const body = await answer.json().catch(() => ({}));
      if (answer.ok) {
        this.setPresence(body.presence);
        this.setAfterCall(body.after_call);
      } else this.showMessage(body.detail || this.text("disconnected"));
    } catch {
      this.showMessage(this.text("disconnected"));
    } finally {
      this.readyButton.disabled = false;
    }
  }

  buildConfirm() {
    const box = element("dialog", "confirm");
    box.setAttribute("aria-labelledby", "confirm-question");
    const question = element("p", "question", this.text("log_out_question"));
    question.id = "confirm-question";
    const yes = element("button", "logout", this.text("log_out"));
    yes.type = "button";
    yes.dataset.answer = "yes";
    const no = element("button", "cancel", this.text("cancel"));
    no.type = "button";
    no.dataset.answer = "no";
    const actions = element("div", "confirm-actions");
    actions.append(yes, no);
    box.append(question, actions);
    box.addEventListener("click", (event) => {
      const answer = event.target.closest("button[data-answer]");
      if (answer) box.close(answer.dataset.answer);
    });
    box.addEventListener("close", () => {
      if (box.returnValue === "yes") this.choose(LOGOUT);
      box.returnValue = "";
    });
    return box;
  }

  askLogout() {
    if (this.presence && this.presence.status === LOGOUT) return; // logged out already
    this.confirmBox.returnValue = "";
    this.confirmBox.showModal();
    this.confirmBox.querySelector("button.cancel").focus();
  }

  allButtons() {
    return [...this.buttons.children, this.logoutButton];
  }

  refreshButtons() {
    const made = [];
    for (const status of this.state.statuses) {
      if (status.id === LOGOUT) {
        this.logoutButton.textContent = status.name;
        continue;
      }
      const button = element("button", "");
      button.type = "button";
      button.dataset.status = String(status.id);
      button.style.setProperty("--status-color", status.color);
      // The label in a grid cell with its bold twin: a chosen (bold) name never makes its
      // button wider than the others, and a long name wraps inside it.
      const label = element("span", "label", status.name);
      label.dataset.text = status.name;
      button.append(label);
      made.push(button);
    }
    this.buttons.replaceChildren(...made);
    if (this.presence) this.setPresence(this.presence);
  }

  setPresence(presence) {
    this.presence = presence;
    if (!this.buttons) return;
    const status = this.state.statuses.find((s) => s.id === presence.status);
    const loggedIn = presence.status !== LOGOUT;
    if (presence.extension) this.lastExtension = presence.extension;
    this.statusName.textContent = status ? status.name : String(presence.status);
    this.limitMs = status && status.limit_seconds ? status.limit_seconds * 1000 : null;
    this.dot.style.setProperty("--status-color", status ? status.color : "#888");
    this.extensionLine.textContent = loggedIn && presence.extension
      ? `${this.text("extension")} ${presence.extension}`
      : this.text("no_extension");
    this.field.hidden = loggedIn || Boolean(this.state.fixed_extension);
    if (!this.field.hidden && !this.input.value && this.lastExtension) {
      this.input.value = this.lastExtension;
    }
    this.sinceMs = Date.parse(presence.since);
    for (const button of this.allButtons()) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.status) === presence.status));
    }
    this.section.removeAttribute("aria-busy");
    this.showPhone();
    this.tick();
  }

  showPhone() {
    if (!this.phoneOffline || !this.presence) return;
    const here = this.presence.status !== LOGOUT && this.presence.extension;
    this.phoneOffline.hidden = !(
      here && this.phone.extension === this.presence.extension && this.phone.phone === "unregistered"
    );
  }

  tick() {
    if (this.queueList && this.queues) this.showQueues();
    if (this.timer && !Number.isNaN(this.sinceMs)) {
      const elapsed = Date.now() + (this.offset || 0) - this.sinceMs;
      const text = clock(elapsed);
      if (this.timer.textContent !== text) this.timer.textContent = text;
      // Past the status's limit: said in words and shown (the policy acts on the server).
      const overdue = this.limitMs !== null && elapsed > this.limitMs;
      if (overdue !== this.section.hasAttribute("data-overdue")) {
        this.section.toggleAttribute("data-overdue", overdue);
        this.overdue.hidden = !overdue;
      }
    }
    if (this.wrapUpLeft && this.afterCall?.wrap_up) {
      const left = this.wrapUntilMs === null ? null
        : this.wrapUntilMs - (Date.now() + (this.offset || 0));
      const text = left === null ? this.text("wrap_up")
        : `${this.text("wrap_up_left")} ${clock(left)}`;
      if (this.wrapUpLeft.textContent !== text) this.wrapUpLeft.textContent = text;
    }
  }

  showMessage(text) {
    if (this.message) this.message.textContent = text || "";
    else if (text) this.section.replaceChildren(element("p", "message", text));
  }

  showConnection(state) {
    if (!this.connection) return;
    clearTimeout(this.reconnectedTimer);
    this.connection.dataset.state = state;
    this.connection.textContent = state === "live" ? "" : this.text(state);
    if (state === "reconnected") {
      this.reconnectedTimer = setTimeout(() => this.showConnection("live"), RECONNECTED_MS);
    }
  }

  async choose(status) {
    const needsExtension = status !== LOGOUT && this.presence.status === LOGOUT
      && !this.state.fixed_extension;
    const extension = this.input.value.trim();
    if (needsExtension && !extension) {
      this.showMessage(this.text("need_extension"));
      this.input.focus();
      return;
    }
    this.showMessage("");
    this.section.setAttribute("aria-busy", "true");
    for (const button of this.allButtons()) button.disabled = true;
    try {
      const answer = await this.request("status", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(needsExtension ? { status, extension } : { status }),
      });
      const body = await answer.json().catch(() => ({}));
      if (answer.ok && body.queued !== undefined) {
        this.setAfterCall({ ...this.afterCall, next_status: body.queued }); // after the call
      } else if (answer.ok) this.setPresence(body.presence);
      else {
        this.showMessage(body.detail || this.text("disconnected"));
        if (FINAL.has(body.reason)) this.end();
        else if (body.reason === "status_unavailable") this.start();
      }
    } catch {
      this.showMessage(this.text("disconnected"));
    } finally {
      this.section.removeAttribute("aria-busy");
      if (!this.ended) for (const button of this.allButtons()) button.disabled = false;
    }
  }

  // The link is over: say so (the message is shown already) and change nothing more.
  end() {
    this.ended = true;
    this.stop();
    this.showConnection("live");
    if (this.buttons) for (const button of this.allButtons()) button.disabled = true;
    if (this.input) this.input.disabled = true;
  }

  retry(generation) {
    const wait = RETRY_MS[Math.min(this.attempt, RETRY_MS.length - 1)];
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      if (generation === this.generation) this.load(generation);
    }, wait);
  }

  async connect(generation) {
    this.abort = new AbortController();
    const headers = { accept: "text/event-stream" };
    if (this.lastId !== null) headers["last-event-id"] = this.lastId;
    let dropped = this.attempt > 0;
    try {
      const answer = await this.request("events", { headers, signal: this.abort.signal });
      if (!answer.ok) {
        const body = await answer.json().catch(() => ({}));
        if (generation !== this.generation) return;
        this.showMessage(body.detail);
        if (FINAL.has(body.reason)) return this.end();
        this.showConnection("disconnected");
        return this.retry(generation);
      }
      this.showConnection(dropped ? "reconnected" : "live");
      this.attempt = 0;
      if (dropped) this.showMessage("");
      for await (const message of serverSentEvents(answer.body)) {
        if (generation !== this.generation) return;
        if (message.id !== null) this.lastId = message.id;
        this.receive(message);
      }
    } catch {
      // the connection dropped (or this panel stopped it)
    }
    if (generation !== this.generation) return;
    this.abort.abort(); // this stream is over, whatever ended it: never two at once
    this.showConnection("disconnected");
    this.retry(generation);
  }

  showCalls() {
    const state = [...this.calls.values()].pop();
    this.onCall.hidden = state === undefined;
    this.onCall.dataset.call = state || "";
    this.onCall.textContent = state ? this.text(`call_${state}`) : "";
  }

  receive(message) {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (message.event === "snapshot") {
      const mine = data.agents.find((a) => a.user_id === this.state.agent.user_id);
      if (mine) this.setPresence(mine);
    } else if (message.event.startsWith("call.")) {
      // A call changes no status: the panel shows it beside the status.
      if (data.user_id !== this.state.agent.user_id || !data.call) return;
      if (message.event === "call.ended") this.calls.delete(data.call.id);
      else this.calls.set(data.call.id, data.call.state);
      this.showCalls();
      if (message.event === "call.ended") this.refreshAfterCall(); // a wrap-up restarted
    } else if (message.event === "extension.phone") {
      // The phone registered or not: no change of status either.
      if (data.user_id !== this.state.agent.user_id || !data.detail) return;
      this.phone = data.detail;
      this.showPhone();
    } else if (message.event === "agent.next_status") {
      // Queued or unqueued: no change of status.
      if (data.user_id !== this.state.agent.user_id) return;
      this.setAfterCall({ ...this.afterCall, next_status: data.detail ? data.detail.status : null });
    } else if (message.event === "agent.overdue") {
      // A warning is no change: the agent is where it was, since when it was (the panel
      // shows it over the limit from its own clock).
    } else if (CHANGES.has(message.event) && data.user_id === this.state.agent.user_id && data.new) {
      this.setPresence({ ...data.new, since: data.at });
      this.refreshAfterCall();
    }
  }
}

// The panel page opened by itself (not in a frame): say what it is and how a CRM shows it.
const about = document.querySelector("[data-panel-about]");
if (about && window.top === window.self) about.hidden = false;

if (!customElements.get("agentstatus-panel")) {
  customElements.define("agentstatus-panel", AgentstatusPanel);
}
