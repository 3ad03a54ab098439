// Today's intake from /api/v1/intake/today/ (like the hall's big screen): refreshed when the live
// stream says something changed (live.js), every 10 seconds only while it is down.
(function () {
  "use strict";
  const box = document.querySelector("[data-today-url]");
  if (!box) return;
  async function refresh() {
    try {
      const resp = await fetch(box.dataset.todayUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!resp.ok) return;
      const data = await resp.json();
      document.querySelectorAll("[data-testid=today-calls]").forEach((n) => { n.textContent = data.calls; });
      document.querySelectorAll("[data-today-field]").forEach((n) => {
        if (n.dataset.todayField in data) n.textContent = data[n.dataset.todayField];
      });
    } catch (e) { /* offline for a moment: keep the last figures */ }
  }
  refresh();
  document.addEventListener("hotline:live", refresh);
  setInterval(function () { if (!(window.hotlineLive && window.hotlineLive.connected)) refresh(); }, 10000);
})();
