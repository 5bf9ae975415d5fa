// The administration pages: a form that changes or removes something asks first
// (data-confirm, see confirm.js), and a secret shown once can be copied with one click
// (data-copy names the element to copy).
import "./confirm.js";

for (const button of document.querySelectorAll("button[data-copy]")) {
  button.hidden = !navigator.clipboard;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = button.dataset.copied;
  });
}
