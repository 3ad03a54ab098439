// Live updates: one server-sent event stream per page (/live/stream, hotline/live). Each event
// only says which of this user's topics changed; listeners re-read their own scoped endpoints:
//   document.addEventListener("hotline:live", fn)  — event.detail.topics, and event.detail.today
//   (today's intake figures, sent along to agents and the city center instead of a request each)
// While the stream is down (window.hotlineLive.connected false) the pages' slow polls run instead.
(function () {
  "use strict";
  const script = document.currentScript;
  const state = { connected: false };
  window.hotlineLive = state;
  if (!script || !window.EventSource) return;
  let url = script.dataset.liveUrl;
  if (script.dataset.livePort) url = location.protocol + "//" + location.hostname + ":" + script.dataset.livePort + url;
  const pollUrl = script.dataset.pollUrl;
  let pending = new Set(), timer = null, everOpen = false, today = null;

  function fire() {
    timer = null;
    const detail = { topics: Array.from(pending), today: today };
    pending = new Set();
    today = null;
    document.dispatchEvent(new CustomEvent("hotline:live", { detail: detail }));
  }
  function queue(topics) {
    topics.forEach(function (t) { pending.add(t); });
    if (!timer) timer = setTimeout(fire, 250);  // a burst of changes → one refresh
  }
  function connect() {
    const es = new EventSource(url, { withCredentials: true });
    es.addEventListener("open", function () {
      state.connected = true;
      if (everOpen) queue(["reconnected"]);  // changes may have been missed while away
      everOpen = true;
    });
    es.addEventListener("change", function (e) {
      try {
        const data = JSON.parse(e.data);
        if (data.today) today = data.today;  // city-wide figures come with the event
        queue(data.topics || []);
      } catch (err) { queue(["unknown"]); }
    });
    es.addEventListener("closed", function () { es.close(); state.connected = false; });  // logged out / access changed
    es.onerror = function () { state.connected = false; };  // the browser reconnects by itself unless closed
  }
  // The unread badge on pages without the inbox (the inbox refreshes it with its counts).
  document.addEventListener("hotline:live", async function () {
    if (document.getElementById("inbox-body") || !pollUrl) return;
    const badges = document.querySelectorAll("[data-unread-count]");
    if (!badges.length) return;
    try {
      const resp = await fetch(pollUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!resp.ok) return;
      const data = await resp.json();
      badges.forEach(function (b) { b.textContent = data.unread; b.classList.toggle("zero", !data.unread); });
    } catch (e) { /* offline for a moment */ }
  });
  connect();
})();
