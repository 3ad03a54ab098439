// Small helpers shared by every page. No framework, no CDN.
(function () {
  "use strict";
  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  window.hotline = { csrfToken: csrfToken };

  // --- A page that answers a refused POST (its form kept, with the error) ------------------------
  // The history entry becomes the page's own address, so a refresh reloads the page instead of
  // sending the refused form again.
  var refused = document.querySelector("[data-replace-url]");
  if (refused && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", refused.getAttribute("data-replace-url"));
  }

  // --- Top bar: one line at every width ---------------------------------------------------------
  // Wide screens: the nav entries that do not fit (long English labels, the city's many entries, a
  // search box) move, from the end, under "更多". Narrow screens (CSS, ≤ 760px): the nav folds into
  // the menu button. Without JavaScript the nav clips instead of wrapping.
  var bar = document.querySelector(".topbar");
  var nav = document.getElementById("mainnav");
  var more = bar && bar.querySelector(".nav-more");
  var moreList = more && more.querySelector(".nav-more-list");
  var moreButton = more && more.querySelector(".nav-more-button");
  var toggle = bar && bar.querySelector(".nav-toggle");

  function narrow() { return window.matchMedia("(max-width: 760px)").matches; }

  function fitNav() {
    if (!nav || !more) return;
    while (moreList.firstChild) nav.appendChild(moreList.firstChild);  // start from all in the bar
    more.hidden = true;
    if (narrow()) return;
    var links = nav.querySelectorAll("a");
    for (var i = links.length - 1; i >= 0 && nav.scrollWidth > nav.clientWidth + 1; i--) {
      more.hidden = false;
      moreList.insertBefore(links[i], moreList.firstChild);
    }
    moreButton.classList.toggle("active", !!moreList.querySelector("a.active"));
  }

  function setOpen(button, panel, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (panel) panel.hidden = !open;
  }

  if (nav && more) {
    fitNav();
    window.addEventListener("resize", fitNav);
    if (document.fonts && document.fonts.ready) document.fonts.ready.then(fitNav);
    window.hotline.fitNav = fitNav;
    moreButton.addEventListener("click", function () {
      setOpen(moreButton, moreList, moreList.hidden);
    });
    toggle.addEventListener("click", function () {
      var open = !bar.classList.contains("menu-open");
      bar.classList.toggle("menu-open", open);
      setOpen(toggle, null, open);
      if (open) { var first = nav.querySelector("a"); if (first) first.focus(); }
    });
    document.addEventListener("click", function (ev) {
      if (!more.contains(ev.target)) setOpen(moreButton, moreList, false);
      if (!bar.contains(ev.target) && bar.classList.contains("menu-open")) {
        bar.classList.remove("menu-open");
        setOpen(toggle, null, false);
      }
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key !== "Escape") return;
      if (!moreList.hidden) { setOpen(moreButton, moreList, false); moreButton.focus(); }
      if (bar.classList.contains("menu-open")) { bar.classList.remove("menu-open"); setOpen(toggle, null, false); toggle.focus(); }
    });
  }

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
