// Asking first, in the page's own <dialog> (base.html): ask() names what is about to
// happen and resolves true only for the confirming button. A form with data-confirm
// (the question) asks before it is sent, then goes with confirmed=yes, which the server
// requires of the forms that change an agent (without this script it asks on a page).
const dialog = document.getElementById("confirm-dialog");

export function ask(question, action) {
  if (dialog === null || typeof dialog.showModal !== "function") {
    return Promise.resolve(window.confirm(question));
  }
  dialog.querySelector("[data-confirm-question]").textContent = question;
  dialog.querySelector("[data-confirm-yes]").textContent = action;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
    dialog.querySelector("[data-confirm-no]").focus(); // the safe answer is the default
  });
}

function confirmedField(form) {
  let field = form.querySelector('input[name="confirmed"]');
  if (field === null) {
    field = document.createElement("input");
    field.type = "hidden";
    field.name = "confirmed";
    form.append(field);
  }
  return field;
}

export function askBeforeSending(form) {
  form.addEventListener("submit", async (event) => {
    if (form.dataset.asked === "yes") {
      delete form.dataset.asked;
      return; // confirmed: on its way
    }
    event.preventDefault();
    const submitter = event.submitter;
    const action = form.dataset.confirmAction || (submitter ? submitter.textContent.trim() : "OK");
    if (!(await ask(form.dataset.confirm, action))) return;
    confirmedField(form).value = "yes";
    form.dataset.asked = "yes";
    if (submitter) form.requestSubmit(submitter);
    else form.requestSubmit();
  });
}

for (const form of document.querySelectorAll("form[data-confirm]")) askBeforeSending(form);
