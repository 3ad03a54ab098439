// Inbox: keeps the tab counts, the list and the unread badge current without a reload (on live
// updates; a 15 s poll only while the live stream is down).
(function () {
  "use strict";
  const INTERVAL = 15000;
  function body() { return document.getElementById("inbox-body"); }
  function counts() {
    const out = {};
    document.querySelectorAll("[data-count]").forEach(function (el) { out[el.dataset.count] = el.dataset.value; });
    return out;
  }
  async function refresh() {
    const el = body();
    if (!el || document.hidden) return;
    try {
      const resp = await fetch(el.dataset.pollUrl + window.location.search, { credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (!resp.ok) return;
      const data = await resp.json();
      document.querySelectorAll("[data-unread-count]").forEach(function (b) {
        b.textContent = data.unread; b.classList.toggle("zero", !data.unread);
      });
      const before = counts();
      const changed = Object.keys(data.counts).some(function (k) { return before[k] !== undefined && String(data.counts[k]) !== before[k]; });
      if (!changed) return;
      const html = await fetch(el.dataset.refreshUrl, { credentials: "same-origin" });
      if (!html.ok) return;
      const focused = document.activeElement && el.contains(document.activeElement);
      if (focused) return;  // never pull the list away from under the keyboard
      el.outerHTML = await html.text();
      const status = document.getElementById("inbox-status");
      if (status) status.textContent = status.dataset.updated || "列表已更新 " + new Date().toLocaleTimeString();
    } catch (e) { /* offline for a moment: try again next time */ }
  }
  document.addEventListener("hotline:live", refresh);  // live.js: something changed for this unit
  setInterval(function () { if (!(window.hotlineLive && window.hotlineLive.connected)) refresh(); }, INTERVAL);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
  window.hotlineInboxRefresh = refresh;
})();
