// A button with data-copy="<id>" copies that field's value (the self-evaluation link) to the clipboard.
(function () {
  "use strict";
  document.addEventListener("click", async function (ev) {
    const btn = ev.target.closest("button[data-copy]");
    if (!btn) return;
    const field = document.getElementById(btn.dataset.copy);
    if (!field) return;
    try {
      await navigator.clipboard.writeText(field.value);
    } catch (e) {
      field.select();
      document.execCommand("copy");
    }
    const label = btn.textContent;
    btn.textContent = btn.dataset.copied;
    setTimeout(function () { btn.textContent = label; }, 1500);
  });
})();
