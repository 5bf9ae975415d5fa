// The board rows' status menu: "Set status…" opens one dialog for the page (board.html)
// with the organisation's enabled statuses, a reason and the extension; the choice is then
// asked in the confirm dialog naming the agent (as a logout is), and sent as the form
// would be, answered in JSON. Never from replay (the rows are the past then).
import { ask } from "./confirm.js";

const LOGOUT = 2;
const dialog = document.getElementById("status-dialog");

function question(text, userId, name, statusName, status, reason) {
  const template = status === LOGOUT ? text.log_out_question : text.set_question;
  let asked = template
    .replace("%(name)s", name)
    .replace("%(user_id)s", userId)
    .replace("%(status)s", statusName);
  if (reason !== "") asked += " " + text.reason_is.replace("%(reason)s", reason);
  return asked;
}

async function send(rowForm, data, text) {
  const button = rowForm.querySelector("button");
  button.disabled = true;
  try {
    const answer = await fetch(rowForm.action, {
      method: "POST",
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      body: new URLSearchParams(data),
    });
    if (!answer.ok) {
      const refused = await answer.json().catch(() => ({}));
      window.alert(refused.detail || text.failed);
    }
  } catch {
    window.alert(text.failed);
  } finally {
    button.disabled = false;
  }
}

export function setupStatusMenu({ tbody, text, catalogue, replaying, nameOf }) {
  if (dialog === null || typeof dialog.showModal !== "function") return; // the page asks
  const menu = dialog.querySelector("form[data-status-menu]");
  const who = dialog.querySelector("[data-status-agent]");
  const choices = [...menu.querySelectorAll('input[name="status"]')];
  let rowForm = null;

  tbody.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-status-form]");
    if (!form) return;
    event.preventDefault();
    if (replaying() || form.querySelector("button").disabled) return;
    const row = form.closest("tr");
    rowForm = form;
    menu.reset();
    who.textContent = `${nameOf(row).trim() || row.dataset.userId} (${row.dataset.userId})`;
    menu.elements.extension.value = row.querySelector(".extension").textContent;
    const current = row.querySelector("[data-status]").dataset.status;
    for (const choice of choices) {
      choice.closest("label").dataset.current = String(choice.value === current);
    }
    dialog.showModal();
    (choices.find((c) => c.value === current) || choices[0]).focus();
  });

  menu.addEventListener("submit", async (event) => {
    if (!event.submitter || event.submitter.value !== "set") return; // Cancel: it closes
    event.preventDefault();
    const data = new FormData(menu);
    dialog.close();
    const row = rowForm.closest("tr");
    const userId = row.dataset.userId;
    const status = Number(data.get("status"));
    const reason = String(data.get("reason") || "").trim();
    const statusName = catalogue.get(status) ? catalogue.get(status).name : String(status);
    const asked = question(text, userId, nameOf(row).trim() || userId, statusName, status, reason);
    const action = status === LOGOUT ? text.log_out : text.set_status;
    if (!(await ask(asked, action)) || replaying()) return;
    await send(rowForm, data, text);
  });
}
