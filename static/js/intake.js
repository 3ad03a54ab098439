// The agent's workspace: live panels next to the intake form. Everything from the server is put
// in the page with textContent (never innerHTML), so a script typed by a caller stays text.
(function () {
  "use strict";
  const form = document.getElementById("intake-form");
  if (!form) return;
  const cfg = JSON.parse(document.getElementById("intake-config").textContent);
  const T = JSON.parse(document.getElementById("intake-i18n").textContent);
  const $ = (id) => document.getElementById(id);
  const phone = $("id_phone"), address = $("id_address"), category = $("id_category");
  const candidates = $("candidates"), preview = $("dispatch-preview");

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  function debounce(fn, ms) {
    let t;
    return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  }
  // Only the newest answer of each panel counts: a slow early reply must not overwrite a later one.
  const seq = {};
  async function getJSON(key, url, params) {
    const n = (seq[key] = (seq[key] || 0) + 1);
    const resp = await fetch(url + "?" + new URLSearchParams(params), { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (n !== seq[key]) return null;
    if (!resp.ok) throw new Error(String(resp.status));
    return resp.json();
  }
  function fmt(ts) { return ts ? ts.slice(5, 16).replace("T", " ") : ""; }
  function digits(v) { return v.replace(/[\s\-()（）]/g, ""); }

  // --- caller history -------------------------------------------------------------------------
  const history = $("history");
  const loadHistory = debounce(async function () {
    const d = digits(phone.value);
    if (d.length < 8) return;
    let data;
    try { data = await getJSON("history", cfg.historyUrl, { phone: d }); } catch (e) { return; }
    if (!data) return;
    history.replaceChildren();
    if (!data.calls.length && !data.open_orders.length) {
      history.append(el("p", { class: "empty" }, T.noHistory));
      return;
    }
    if (data.open_orders.length) {
      history.append(el("h3", {}, T.openOrders + " (" + data.open_orders.length + ")"));
      const ul = el("ul", { class: "plain" });
      for (const o of data.open_orders) {
        ul.append(el("li", { "data-testid": "history-order" }, el("span", { class: "mono" }, o.number), " ",
          el("span", { class: "tag state-" + o.state }, o.state_display), " ", o.category, " · ", o.lead_unit.name));
      }
      history.append(ul);
    }
    if (data.calls.length) {
      history.append(el("h3", {}, T.previousCalls + " (" + data.calls.length + ")"));
      const ul = el("ul", { class: "plain" });
      for (const c of data.calls) {
        ul.append(el("li", { "data-testid": "history-call" }, el("span", { class: "muted" }, fmt(c.received_at)), " ",
          c.request_type, " · ", c.outcome, c.order_number ? " " + c.order_number : "", el("br"),
          el("span", { class: "small" }, (c.category ? c.category + "：" : "") + c.description)));
      }
      history.append(ul);
    }
  }, 250);
  phone.addEventListener("input", loadHistory);

  // --- routing candidates ---------------------------------------------------------------------
  function chosenStreet() {
    const r = form.querySelector('input[name="street"]:checked');
    return r ? r.value : "";
  }
  const loadCandidates = debounce(async function () {
    const q = address.value.trim();
    const keep = chosenStreet() || candidates.dataset.selected;
    if (q.length < 2) return;
    let data;
    try { data = await getJSON("route", cfg.routeUrl, { q: q }); } catch (e) { return; }
    if (!data) return;
    candidates.querySelectorAll(".candidate, .empty").forEach((n) => n.remove());
    if (!data.candidates.length) {
      candidates.append(el("p", { class: "empty", "data-testid": "no-candidates" }, T.noCandidates));
    }
    // Never pick for the agent between places that share a name: preselect only a clear winner.
    const cs = data.candidates;
    const clear = cs.length === 1 || (cs.length > 1 && cs[0].score > cs[1].score);
    if (cs.length > 1 && !clear) candidates.append(el("p", { class: "field-error candidate", "data-testid": "choose-street" }, T.chooseStreet));
    data.candidates.forEach(function (c, i) {
      const input = el("input", { type: "radio", name: "street", value: c.street_code });
      input.checked = keep ? keep === c.street_code : i === 0 && clear;
      input.addEventListener("change", refreshDispatch);
      candidates.append(el("label", { class: "candidate", "data-testid": "candidate" }, input,
        el("kbd", {}, String(i + 1)), " ", el("strong", {}, c.district_name + " " + c.street_name), " ",
        el("span", { class: "muted small" }, c.reason)));
    });
    candidates.dataset.selected = "";
    refreshDispatch();
  }, 200);
  address.addEventListener("input", loadCandidates);

  // --- dispatch preview and duplicates --------------------------------------------------------
  const duplicates = $("duplicates");
  const refreshDispatch = debounce(async function () {
    const street = chosenStreet(), cat = category.value;
    preview.replaceChildren();
    if (!street || !cat) return;
    const params = { category: cat, street: street, address: address.value.trim() };
    try {
      const d = await getJSON("dispatch", cfg.dispatchUrl, params);
      if (d) {
        preview.append(el("span", {}, T.lead + "：", el("strong", { "data-testid": "preview-lead" }, d.lead_unit.name)),
          d.co_units.length ? " · " + T.co + "：" + d.co_units.map((u) => u.name).join("、") : "",
          el("br"), el("span", { class: "muted small", "data-testid": "preview-reason" }, d.reason));
      }
    } catch (e) { preview.append(el("span", { class: "field-error" }, T.error)); }
    let rows;
    try { rows = await getJSON("dup", cfg.duplicatesUrl, params); } catch (e) { return; }
    if (!rows) return;
    duplicates.replaceChildren();
    if (!rows.length) { duplicates.append(el("p", { class: "empty" }, T.noDuplicates)); return; }
    for (const o of rows) {
      const btn = el("button", { type: "button", class: "btn btn-small", "data-testid": "link-duplicate" }, T.linkDuplicate);
      btn.addEventListener("click", function () {
        $("id_duplicate_of").value = o.number;
        form.querySelector('input[name="action"][value="duplicate"]').checked = true;
        form.requestSubmit();
      });
      duplicates.append(el("div", { class: "dup-row", "data-testid": "duplicate" },
        el("span", { class: "mono" }, o.number), " ", el("span", { class: "tag state-" + o.state }, o.state_display),
        " ", o.lead_unit.name, " · ", T.duplicates + " " + o.duplicate_count, el("br"),
        el("span", { class: "small muted" }, fmt(o.dispatched_at) + " " + o.address), " ", btn));
    }
  }, 150);
  category.addEventListener("change", refreshDispatch);

  // --- knowledge base ---------------------------------------------------------------------------
  const kbQuery = $("kb-query"), kbResults = $("kb-results");
  const searchKb = debounce(async function () {
    const q = kbQuery.value.trim();
    if (!q) { kbResults.replaceChildren(); return; }
    let rows;
    try { rows = await getJSON("kb", cfg.kbUrl, { q: q }); } catch (e) { return; }
    if (!rows) return;
    kbResults.replaceChildren();
    if (!rows.length) { kbResults.append(el("p", { class: "empty" }, T.noArticles)); return; }
    for (const a of rows) {
      const btn = el("button", { type: "button", class: "btn btn-small", "data-testid": "kb-answer" }, T.answerDirectly);
      btn.addEventListener("click", function () {
        $("id_answer").value = a.body;
        $("id_article").value = a.id;
        form.querySelector('input[name="action"][value="answer"]').checked = true;
        form.requestSubmit();
      });
      kbResults.append(el("article", { class: "kb-article", "data-testid": "kb-article" },
        el("h3", {}, a.title), el("p", { class: "small" }, a.body), btn));
    }
  }, 200);
  kbQuery.addEventListener("input", searchKb);
  kbQuery.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); searchKb(); } });

  // --- keyboard ---------------------------------------------------------------------------------
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter" && form.contains(document.activeElement)) {
      ev.preventDefault();
      form.requestSubmit();
      return;
    }
    if (ev.altKey) {
      const jump = { "1": phone, "2": category, "3": address, "4": kbQuery }[ev.key];
      if (jump) { ev.preventDefault(); jump.focus(); }
      return;
    }
    // In the candidate list a digit picks the n-th street (arrows work as for any radio group).
    const n = parseInt(ev.key, 10);
    const radios = form.querySelectorAll('input[name="street"]');
    if (candidates.contains(document.activeElement) && n >= 1 && radios[n - 1]) {
      ev.preventDefault();
      radios[n - 1].checked = true;
      radios[n - 1].focus();
      refreshDispatch();
    }
  });
  // The answer box matters only for direct answers: show it then.
  function syncAction() {
    const a = form.querySelector('input[name="action"]:checked');
    $("answer-field").hidden = !(a && a.value === "answer") && !$("id_answer").value;
  }
  form.querySelectorAll('input[name="action"]').forEach((r) => r.addEventListener("change", syncAction));
  syncAction();

  // After a failed save the typed text is back: bring the panels back too.
  if (phone.value) loadHistory();
  if (address.value) loadCandidates();
})();
