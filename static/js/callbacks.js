// Callback pages: a form marked data-once is submitted once (the server records once anyway).
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    const form = ev.target.closest("form[data-once]");
    if (!form) return;
    if (form.dataset.sent) { ev.preventDefault(); return; }
    form.dataset.sent = "1";
  });
})();
