// Small helpers shared by every page. No framework, no CDN.
(function () {
  "use strict";
  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  window.hotline = { csrfToken: csrfToken };

  // Reveal a masked phone number: the server records who looked, then returns it.
  document.addEventListener("click", async function (ev) {
    const btn = ev.target.closest("[data-reveal-url]");
    if (!btn) return;
    ev.preventDefault();
    const resp = await fetch(btn.dataset.revealUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    });
    if (!resp.ok) { btn.disabled = true; return; }
    const data = await resp.json();
    const target = document.querySelector('[data-phone-for="' + btn.dataset.target + '"]');
    if (target) target.textContent = data.phone;
    btn.remove();
  });

  // <select data-autosubmit>: submit the form on change (no inline handlers under the CSP).
  document.addEventListener("change", function (ev) {
    if (ev.target.matches && ev.target.matches("[data-autosubmit]") && ev.target.form) ev.target.form.submit();
  });
})();
