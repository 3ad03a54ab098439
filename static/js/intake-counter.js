// Today's intake from /api/v1/intake/today/ (like the hall's big screen): refreshed when the live
// stream says something changed (live.js), every 10 seconds only while it is down.
(function () {
  "use strict";
  const box = document.querySelector("[data-today-url]");
  if (!box) return;
  function show(data) {
    document.querySelectorAll("[data-testid=today-calls]").forEach((n) => { n.textContent = data.calls; });
    document.querySelectorAll("[data-today-field]").forEach((n) => {
      if (n.dataset.todayField in data) n.textContent = data[n.dataset.todayField];
    });
  }
  async function refresh(event) {
    if (event && event.detail && event.detail.today) { show(event.detail.today); return; }
    if (event && event.detail && event.detail.topics && event.detail.topics.indexOf("city") < 0
        && event.detail.topics.indexOf("reconnected") < 0) return;  // not about today's intake
    try {
      const resp = await fetch(box.dataset.todayUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!resp.ok) return;
      show(await resp.json());
    } catch (e) { /* offline for a moment: keep the last figures */ }
  }
  refresh();
  document.addEventListener("hotline:live", refresh);
  setInterval(function () { if (!(window.hotlineLive && window.hotlineLive.connected)) refresh(); }, 10000);
})();
