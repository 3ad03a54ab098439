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
  async function postJSON(key, url, body) {
    const n = (seq[key] = (seq[key] || 0) + 1);
    const token = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    const resp = await fetch(url, { method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body) });
    if (n !== seq[key]) return null;
    if (!resp.ok) throw new Error(String(resp.status));
    return resp.json();
  }
  function orderLink(o) {
    return el("a", { class: "mono", href: cfg.orderUrl.replace("/0/", "/" + o.id + "/"), "data-testid": "order-link" }, o.number);
  }
  // --- the same incident reported before (duplicate candidates) --------------------------------
  // Proposed, never chosen for the agent: the default action stays "派发工单"; linking is the
  // agent's click on a candidate. The caller's other orders are history only.
  const warning = $("repeat-warning");
  let proposal = null;
  function syncProposal() {
    warning.hidden = !proposal;
    if (proposal) warning.textContent = T.proposed.replace("%s", proposal.number);
  }
  function fmt(ts) { return ts ? ts.slice(5, 16).replace("T", " ") : ""; }
  function digits(v) { return v.replace(/[\s\-()（）]/g, ""); }

  // --- caller history -------------------------------------------------------------------------
  const history = $("history");
  const loadHistory = debounce(async function () {
    const d = digits(phone.value);
    if (d.length < 8) return;
    let data;
    try { data = await postJSON("history", cfg.historyUrl, { phone: d }); } catch (e) { return; }
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
        ul.append(el("li", { "data-testid": "history-order" }, orderLink(o), " ",
          el("span", { class: "tag state-" + o.state }, o.state_display), " ", o.category, " · ", o.lead_unit.name));
      }
      history.append(ul);
    }
    if (data.calls.length) {
      history.append(el("h3", {}, T.previousCalls + " (" + data.calls.length + ")"));
      const ul = el("ul", { class: "plain" });
      for (const c of data.calls) {
        ul.append(el("li", { "data-testid": "history-call" }, el("span", { class: "muted" }, fmt(c.received_at)), " ",
          c.request_type, " · ", c.outcome, " ", c.order_id ? orderLink({ id: c.order_id, number: c.order_number }) : (c.order_number || ""), el("br"),
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
    candidates.querySelectorAll(".candidate:not(.manual), .empty").forEach((n) => n.remove());
    if (!data.candidates.length) {
      candidates.append(el("p", { class: "empty", "data-testid": "no-candidates" }, T.noCandidates));
    }
    // Never pick for the agent between places that share a name: preselect only a clear winner.
    const cs = data.candidates;
    const clear = cs.length === 1 || (cs.length > 1 && cs[0].score > cs[1].score);
    if (cs.length > 1 && !clear) candidates.append(el("p", { class: "field-error candidate", "data-testid": "choose-street" }, T.chooseStreet));
    data.candidates.forEach(function (c, i) {
      const input = el("input", { type: "radio", name: "street", value: c.street_code });
      input.checked = keep ? keep === c.street_code && !candidates.querySelector(".manual") : i === 0 && clear;
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
    loadDuplicates();
    if (!street || !cat) return;
    const params = { category: cat, street: street, address: address.value.trim() };
    if (community.value) params.community = community.value;
    try {
      const d = await getJSON("dispatch", cfg.dispatchUrl, params);
      if (d) {
        preview.append(el("span", {}, T.lead + "：", el("strong", { "data-testid": "preview-lead" }, d.lead_unit.name)),
          d.co_units.length ? " · " + T.co + "：" + d.co_units.map((u) => u.name).join("、") : "",
          el("br"), el("span", { class: "muted small", "data-testid": "preview-reason" }, d.reason));
      }
    } catch (e) { preview.append(el("span", { class: "field-error" }, T.error)); }
  }, 150);
  category.addEventListener("change", refreshDispatch);

  const PLACE = { spot: "placeSpot", compound: "placeCompound", street: "placeStreet" };
  const loadDuplicates = debounce(async function () {
    const street = chosenStreet(), text = $("id_description").value.trim();
    if (!street || text.length < 4) { proposal = null; syncProposal(); return; }
    const body = { street: street, address: address.value.trim(), description: text };
    if (category.value) body.category = category.value;
    if (community.value) body.community = community.value;
    let rows;
    try { rows = await postJSON("dup", cfg.duplicatesUrl, body); } catch (e) { return; }
    if (!rows) return;
    duplicates.replaceChildren();
    proposal = rows.length ? rows[0] : null;
    syncProposal();
    if (!rows.length) { duplicates.append(el("p", { class: "empty" }, T.noDuplicates)); return; }
    for (const o of rows) {
      const btn = el("button", { type: "button", class: "btn btn-small", "data-testid": "link-duplicate" }, T.linkDuplicate);
      btn.addEventListener("click", function () {
        // the agent's confirmation: this call is the same incident as order o
        $("id_duplicate_of").value = o.number;
        form.querySelector('input[name="action"][value="duplicate"]').checked = true;
        syncAction();
        form.requestSubmit();
      });
      duplicates.append(el("div", { class: "dup-row", "data-testid": "duplicate" },
        orderLink(o), " ", el("span", { class: "tag state-" + o.state }, o.state_display),
        " ", o.category, " · ", o.lead_unit.name, " · ", T.duplicates + " " + o.duplicate_count, el("br"),
        el("span", { class: "small muted" }, fmt(o.dispatched_at) + " " + o.address + " · " +
          T[PLACE[o.place]] + " · " + T.similarity + " " + Math.round(o.score * 100) + "%"), " ", btn));
    }
  }, 300);

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
        // The article's text is a starting point: the agent adapts it, then saves (Ctrl+Enter).
        // Everything the first save needs: the article's category, a description, the answer.
        $("id_answer").value = a.body;
        $("id_article").value = a.id;
        if (a.category && byCode[a.category]) pickCategory(a.category);
        if (!description.value.trim()) description.value = T.kbDescription.replace("%s", a.title);
        const rt = $("id_request_type");
        if (!rt.value) { rt.value = "consultation"; rt.classList.add("suggested"); }
        form.querySelector('input[name="action"][value="answer"]').checked = true;
        syncAction();
        saveDraft();
        $("id_answer").focus();
      });
      kbResults.append(el("article", { class: "kb-article", "data-testid": "kb-article" },
        el("h3", {}, a.title), el("p", { class: "small" }, a.body), btn));
    }
  }, 200);
  kbQuery.addEventListener("input", searchKb);
  kbQuery.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); searchKb(); } });

  // --- hand-chosen place: every street/township, by Chinese, pinyin or initials ------------------
  const placeQ = $("place-q"), placeList = $("place-list"), community = $("id_community");
  const streets = JSON.parse($("place-streets").textContent);
  const MAX_SHOWN = 60;
  function placeMatches(r, q) {
    if (!q) return true;
    const ascii = /^[\x00-\x7f]+$/.test(q);
    return r.name.includes(q) || r.district_name.includes(q) || (ascii && (r.py.includes(q) || r.ini.startsWith(q)));
  }
  let placeActive = -1;
  function renderPlaces() {
    const q = placeQ.value.replace(/\s+/g, "").toLowerCase();
    placeList.replaceChildren();
    placeActive = -1;
    if (!q) { placeQ.setAttribute("aria-expanded", "false"); return; }
    const found = streets.filter((r) => placeMatches(r, q));
    let district = null;
    found.slice(0, MAX_SHOWN).forEach(function (r, i) {
      if (r.district_name !== district) {
        district = r.district_name;
        placeList.append(el("li", { class: "group", role: "presentation" }, district));
      }
      const li = el("li", { role: "option", id: "place-opt-" + i, "data-code": r.code, "data-testid": "place-option" }, r.name);
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choosePlace(r); });
      placeList.append(li);
    });
    if (!found.length) placeList.append(el("li", { class: "group", role: "presentation" }, T.noPlaces));
    else if (found.length > MAX_SHOWN) placeList.append(el("li", { class: "group", role: "presentation", "data-testid": "place-cut-off" }, T.morePlaces));
    placeQ.setAttribute("aria-expanded", "true");
  }
  function movePlace(step) {
    const opts = placeList.querySelectorAll('[role="option"]');
    if (!opts.length) return;
    placeActive = (placeActive + step + opts.length) % opts.length;
    opts.forEach((o, i) => o.setAttribute("aria-selected", i === placeActive ? "true" : "false"));
    placeQ.setAttribute("aria-activedescendant", opts[placeActive].id);
    opts[placeActive].scrollIntoView({ block: "nearest" });
  }
  async function loadCommunities(streetCode, selected) {
    community.replaceChildren(community.options[0] || el("option", { value: "" }, "—"));
    let data;
    try { data = await getJSON("communities", cfg.communitiesUrl, { street: streetCode }); } catch (e) { return; }
    if (!data) return;
    for (const c of data.results) {
      const opt = el("option", { value: c.code }, c.name);
      if (c.code === selected) opt.selected = true;
      community.append(opt);
    }
  }
  function choosePlace(r, selectedCommunity) {
    candidates.querySelectorAll(".manual").forEach((n) => n.remove());
    const input = el("input", { type: "radio", name: "street", value: r.code });
    input.checked = true;
    input.addEventListener("change", refreshDispatch);
    candidates.append(el("label", { class: "candidate manual", "data-testid": "candidate-manual" }, input, " ",
      el("span", { class: "tag" }, T.manual), " ", el("strong", {}, r.district_name + " " + r.name)));
    placeQ.value = "";
    renderPlaces();
    loadCommunities(r.code, selectedCommunity || "");
    refreshDispatch();
  }
  placeQ.addEventListener("input", renderPlaces);
  placeQ.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown") { ev.preventDefault(); movePlace(1); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); movePlace(-1); }
    else if (ev.key === "Enter") {
      ev.preventDefault();
      const opts = placeList.querySelectorAll('[role="option"]');
      const pick = opts[placeActive >= 0 ? placeActive : 0];
      if (pick) choosePlace(streets.find((r) => r.code === pick.dataset.code));
    } else if (ev.key === "Escape") { placeQ.value = ""; renderPlaces(); }
  });
  community.addEventListener("change", refreshDispatch);
  // Choosing a routed candidate clears a community picked for another street.
  candidates.addEventListener("change", function (ev) {
    if (ev.target.name === "street" && !ev.target.closest(".manual")) {
      community.replaceChildren(community.options[0]);
    }
  });

  // --- category: type to filter (Chinese, pinyin, initials), recently used first, suggestions ----
  const categoryQ = $("category-q"), categoryList = $("category-list"), suggestBox = $("category-suggestions");
  const leaves = JSON.parse($("category-choices").textContent);
  const byCode = Object.fromEntries(leaves.map((c) => [c.code, c]));
  const RECENT_KEY = "hl.recentCategories";
  function recent() {
    try { return JSON.parse(localStorage.getItem(RECENT_KEY) || "[]").filter((c) => byCode[c]); } catch (e) { return []; }
  }
  function remember(code) {
    const list = [code].concat(recent().filter((c) => c !== code)).slice(0, 8);
    try { localStorage.setItem(RECENT_KEY, JSON.stringify(list)); } catch (e) { /* private mode */ }
  }
  function pickCategory(code) {
    if (!byCode[code]) return;
    category.value = code;
    remember(code);
    categoryQ.value = "";
    categoryList.replaceChildren();
    categoryQ.setAttribute("aria-expanded", "false");
    category.dispatchEvent(new Event("change", { bubbles: true }));
  }
  let catActive = -1;
  function renderCategories() {
    const q = categoryQ.value.replace(/\s+/g, "").toLowerCase();
    categoryList.replaceChildren();
    catActive = -1;
    const rec = recent();
    let rows;
    if (!q) {
      rows = rec.map((c) => byCode[c]);
      if (rows.length) categoryList.append(el("li", { class: "group", role: "presentation" }, T.recentCategories));
    } else {
      const ascii = /^[\x00-\x7f]+$/.test(q);
      rows = leaves.filter((c) => c.path.includes(q) || (ascii && (c.py.includes(q) || c.ini.startsWith(q))));
      // recently used first, then the tree's order
      rows.sort((a, b) => {
        const ra = rec.indexOf(a.code), rb = rec.indexOf(b.code);
        return (ra < 0 ? 99 : ra) - (rb < 0 ? 99 : rb);
      });
      if (!rows.length) categoryList.append(el("li", { class: "group", role: "presentation" }, T.noCategories));
    }
    rows.slice(0, 30).forEach(function (c, i) {
      const li = el("li", { role: "option", id: "cat-opt-" + i, "data-code": c.code, "data-testid": "category-option" },
        el("strong", {}, c.name), " ", el("span", { class: "muted small" }, c.path));
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pickCategory(c.code); });
      categoryList.append(li);
    });
    categoryQ.setAttribute("aria-expanded", rows.length ? "true" : "false");
  }
  function moveCategory(step) {
    const opts = categoryList.querySelectorAll('[role="option"]');
    if (!opts.length) return;
    catActive = (catActive + step + opts.length) % opts.length;
    opts.forEach((o, i) => o.setAttribute("aria-selected", i === catActive ? "true" : "false"));
    categoryQ.setAttribute("aria-activedescendant", opts[catActive].id);
    opts[catActive].scrollIntoView({ block: "nearest" });
  }
  categoryQ.addEventListener("input", renderCategories);
  categoryQ.addEventListener("focus", renderCategories);
  categoryQ.addEventListener("blur", function () { setTimeout(function () { categoryList.replaceChildren(); }, 150); });
  categoryQ.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown") { ev.preventDefault(); moveCategory(1); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); moveCategory(-1); }
    else if (ev.key === "Enter") {
      ev.preventDefault();
      const opts = categoryList.querySelectorAll('[role="option"]');
      const pick = opts[catActive >= 0 ? catActive : 0];
      if (pick) pickCategory(pick.dataset.code);
    } else if (ev.key === "Escape") { categoryQ.value = ""; renderCategories(); }
  });
  category.addEventListener("change", function () { if (category.value) remember(category.value); });

  const description = $("id_description");
  const loadSuggestions = debounce(async function () {
    const text = description.value.trim();
    if (text.length < 4) { suggestBox.replaceChildren(); return; }
    let data;
    try { data = await postJSON("suggest", cfg.suggestUrl, { text: text }); } catch (e) { return; }
    if (!data) return;
    suggestBox.replaceChildren();
    if (!data.suggestions.length) return;
    suggestBox.append(el("span", { class: "muted small" }, T.suggested + "："));
    for (const sg of data.suggestions) {
      const btn = el("button", { type: "button", class: "btn btn-small", "data-testid": "category-suggestion", "data-code": sg.code, title: sg.path }, sg.name);
      btn.addEventListener("click", function () { pickCategory(sg.code); });
      suggestBox.append(btn, " ");
    }
    if (data.request_type) {
      const rt = $("id_request_type");
      const opt = Array.from(rt.options).find((o) => o.value === data.request_type);
      if (opt && rt.value !== data.request_type) {
        const btn = el("button", { type: "button", class: "btn btn-small", "data-testid": "request-type-suggestion" }, T.requestType + "：" + opt.textContent);
        btn.addEventListener("click", function () { rt.value = data.request_type; btn.remove(); });
        suggestBox.append(btn);
      }
    }
  }, 400);
  description.addEventListener("input", loadSuggestions);
  description.addEventListener("input", loadDuplicates);
  address.addEventListener("input", loadDuplicates);

  // --- keyboard ---------------------------------------------------------------------------------
  // Only Ctrl+Enter saves; Enter in a one-line field moves to the next field (a phone number or an
  // address typed with Enter at the end must not send a half-filled form).
  function nextField(from) {
    const fields = Array.from(form.querySelectorAll("input, select, textarea, button"))
      .filter((f) => f.type !== "hidden" && !f.disabled && f.offsetParent !== null && f.tabIndex >= 0);
    const i = fields.indexOf(from);
    return i >= 0 ? fields[i + 1] : null;
  }
  form.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter" || ev.ctrlKey || ev.metaKey || ev.defaultPrevented) return;
    const t = ev.target;
    if (t.tagName === "TEXTAREA" || t.tagName === "BUTTON" || t.tagName === "A") return;
    ev.preventDefault();
    const next = nextField(t);
    if (next) next.focus();
  });
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter" && form.contains(document.activeElement)) {
      ev.preventDefault();
      form.requestSubmit();
      return;
    }
    if (ev.altKey) {
      const jump = { "1": phone, "2": categoryQ, "3": address, "4": kbQuery, "5": placeQ }[ev.key];
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
  form.querySelectorAll('input[name="action"]').forEach((r) => r.addEventListener("change", function () {
    // choosing "关联重复诉求" by hand takes the proposed order; the agent can pick another on the right
    if (r.value === "duplicate" && r.checked && !$("id_duplicate_of").value) {
      if (proposal) $("id_duplicate_of").value = proposal.number;
      else { warning.textContent = T.chooseDuplicate; warning.hidden = false; }
    }
    if (r.value !== "duplicate" && r.checked) $("id_duplicate_of").value = "";
    syncAction();
  }));
  syncAction();

  // --- one save per form: the key is in the form (the server enforces it); a second Ctrl+Enter
  // while the first is on its way does nothing ------------------------------------------------
  let submitting = false;
  form.addEventListener("submit", function (ev) {
    if (submitting || sessionEnded) { ev.preventDefault(); if (sessionEnded) showExpired(); return; }
    saveDraft();
    submitting = true;
    form.querySelector('[data-testid="intake-save"]').setAttribute("aria-busy", "true");
  });
  window.addEventListener("pageshow", function () { submitting = false; });

  // --- the draft: what is typed survives a reload, an expired session and a new login ------------
  // Kept in this browser only (localStorage, per user), cleared by a successful save or "清空";
  // a draft older than the session's lifetime is dropped (the caller's phone is not kept longer).
  const DRAFT_MAX_AGE = 12 * 3600 * 1000;
  function formFields() {
    return Array.from(form.elements).filter((f) => f.name && f.name !== "csrfmiddlewaretoken" && f.type !== "submit" && f.type !== "button");
  }
  function saveDraft() {
    const values = {};
    for (const f of formFields()) {
      if (f.type === "radio") { if (f.checked) values[f.name] = f.value; }
      else if (f.type === "checkbox") values[f.name] = f.checked ? f.value : "";
      else values[f.name] = f.value;
    }
    const typed = ["phone", "caller_name", "address", "description", "answer"].some((n) => values[n]);
    try {
      if (typed) localStorage.setItem(cfg.draftKey, JSON.stringify({ t: Date.now(), v: values }));
      else localStorage.removeItem(cfg.draftKey);
    } catch (e) { /* private mode: nothing kept */ }
  }
  function clearDraft() { try { localStorage.removeItem(cfg.draftKey); } catch (e) { /* ignore */ } }
  function readDraft() {
    try {
      const d = JSON.parse(localStorage.getItem(cfg.draftKey) || "null");
      if (d && d.v && Date.now() - d.t < DRAFT_MAX_AGE) return d.v;
    } catch (e) { /* ignore */ }
    clearDraft();
    return null;
  }
  function restoreDraft(v) {
    for (const f of formFields()) {
      if (!(f.name in v)) continue;
      if (f.type === "radio") f.checked = v[f.name] === f.value;
      else if (f.type === "checkbox") f.checked = !!v[f.name];
      else if (f.tagName === "SELECT") { if (Array.from(f.options).some((o) => o.value === v[f.name])) f.value = v[f.name]; }
      else f.value = v[f.name];
    }
    if (v.street) candidates.dataset.selected = v.street;
    if (v.community) community.dataset.selected = v.community;
    const note = $("draft-note");
    const discard = el("button", { type: "button", class: "btn btn-small", "data-testid": "discard-draft" }, T.discardDraft);
    discard.addEventListener("click", function () { clearDraft(); window.location.assign(window.location.pathname); });
    note.replaceChildren(T.draftRestored + " ", discard);
    note.hidden = false;
  }
  const saveDraftSoon = debounce(saveDraft, 300);
  form.addEventListener("input", saveDraftSoon);
  form.addEventListener("change", saveDraftSoon);
  const doneBox = document.querySelector('[data-testid="intake-done"]');
  const pristine = !phone.value && !$("id_description").value && !form.querySelector(".field-error") && !document.querySelector('[data-testid="form-error"]');
  if (doneBox) clearDraft();  // saved: the draft (and the phone in it) goes
  else if (pristine) { const v = readDraft(); if (v) restoreDraft(v); }
  const clearLink = form.querySelector('a.btn[href]');
  if (clearLink) clearLink.addEventListener("click", clearDraft);

  // --- the session: slides while the agent types; a warning before it ends ---------------------
  const sess = JSON.parse($("intake-session").textContent);
  let deadline = Date.now() + sess.expiresIn * 1000, lastPing = Date.now(), sessionEnded = false;
  const sessionBox = $("session-warning");
  function showExpired() {
    sessionBox.replaceChildren(T.sessionExpired + " ", el("a", { class: "btn btn-small btn-primary", href: cfg.loginUrl, "data-testid": "session-login" }, T.login));
    sessionBox.hidden = false;
  }
  async function ping() {
    lastPing = Date.now();
    const token = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    let resp;
    try {
      resp = await fetch(cfg.keepaliveUrl, { method: "POST", credentials: "same-origin", headers: { Accept: "application/json", "X-CSRFToken": token } });
    } catch (e) { return; }  // offline for a moment: try again on the next keystroke
    if (resp.status === 401 || resp.status === 403) { sessionEnded = true; saveDraft(); showExpired(); return; }
    if (!resp.ok) return;
    const d = await resp.json();
    deadline = Date.now() + d.expiresIn * 1000;
    sessionEnded = false;
    checkSession();
  }
  function checkSession() {
    const left = deadline - Date.now();
    if (left <= 0) { sessionEnded = true; saveDraft(); showExpired(); return; }
    if (left <= sess.warnBefore * 1000) {
      const stay = el("button", { type: "button", class: "btn btn-small", "data-testid": "stay-logged-in" }, T.stayLoggedIn);
      stay.addEventListener("click", ping);
      sessionBox.replaceChildren(T.sessionWarning.replace("%s", String(Math.max(1, Math.ceil(left / 60000)))) + " ", stay);
      sessionBox.hidden = false;
    } else if (!sessionEnded) sessionBox.hidden = true;
  }
  setInterval(checkSession, 15000);
  form.addEventListener("input", function () { if (Date.now() - lastPing > 60000) ping(); });

  // After a failed save (or a restored draft) the typed text is back: bring the panels back too.
  if (phone.value) loadHistory();
  if ($("link-reason-field").hidden === false || $("id_link_reason").value) $("link-reason-field").hidden = false;
  const posted = candidates.dataset.selected;
  if (posted) {
    const r = streets.find((x) => x.code === posted);
    if (r) choosePlace(r, community.dataset.selected);
  }
  if (address.value) loadCandidates();
})();
