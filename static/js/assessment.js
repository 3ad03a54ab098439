// Assessment charts (Apache ECharts, vendored under static/vendor/echarts). No framework, no CDN.
(function () {
  "use strict";
  if (!window.echarts) return;
  var COLORS = ["#1f5fa8", "#1e8e3e", "#d9822b", "#c62828", "#6a1b9a", "#8a96a3"];

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return null;
    var c = window.echarts.init(el, null, { renderer: "svg" });
    option.color = option.color || COLORS;
    option.animation = false;
    c.setOption(option);
    el.dataset.rendered = "1";
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }
  function pct(v) { return v === null || v === undefined ? null : Math.round(v * 10000) / 100; }

  function trendChart(id, points, labels) {
    chart(id, {
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 32, bottom: 28 },
      xAxis: { type: "category", data: points.map(function (p) { return p.period; }) },
      // rates on a 0–100 % axis: a scale starting at, say, 84 % would exaggerate small gaps
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        { name: labels.response, type: "line", connectNulls: true, data: points.map(function (p) { return pct(p.response_rate); }) },
        { name: labels.resolution, type: "line", connectNulls: true, data: points.map(function (p) { return pct(p.resolution_rate); }) },
        { name: labels.satisfaction, type: "line", connectNulls: true, data: points.map(function (p) { return pct(p.satisfaction_rate); }) },
      ],
    });
  }

  // Scorecard page: one unit's trend.
  var unitTrend = document.getElementById("unit-trend");
  if (unitTrend) {
    trendChart("chart-unit-trend", JSON.parse(unitTrend.textContent),
      JSON.parse(document.getElementById("dashboard-labels").textContent));
  }

  var root = document.getElementById("dashboard");
  if (!root) return;
  var labels = JSON.parse(document.getElementById("dashboard-labels").textContent);
  fetch(root.dataset.url, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (d) {
      trendChart("chart-trend", d.trend, labels);
      var ranked = d.ranking.filter(function (r) { return r.composite !== null; });
      // one readable line per unit: grow the chart with the table
      document.getElementById("chart-ranking").style.height = Math.max(300, ranked.length * 18 + 40) + "px";
      var rankingChart = chart("chart-ranking", {
        tooltip: { trigger: "axis" },
        grid: { left: 110, right: 24, top: 8, bottom: 24 },
        xAxis: { type: "value", min: 0, max: 100 },  // scores from zero: bar lengths compare honestly
        yAxis: { type: "category", inverse: true, axisLabel: { interval: 0, fontSize: 11 },
          data: ranked.map(function (r) { return (r.rank ? r.rank + " " : "") + r.unit; }) },
        series: [{ name: labels.composite, type: "bar", data: ranked.map(function (r) {
          return { value: r.composite, itemStyle: { color: r.flagged ? "#8a96a3" : "#1f5fa8" } };
        }) }],
      });
      // a bar opens that unit's scorecard (and from there the orders behind each figure)
      rankingChart.on("click", function (p) {
        var r = ranked[p.dataIndex];
        if (r) window.location.href = root.dataset.scorecardUrl.replace("/0/", "/" + r.unit_id + "/") +
          (d.snapshot ? "?snapshot=" + d.snapshot : "");
      });
      // Bars with each category's name written above its bar across the chart's whole width: a pie's
      // outside labels were cut to "Occu…" once names are English ("Occupation of public space").
      var categoryEl = document.getElementById("chart-category");
      categoryEl.style.height = Math.max(300, d.by_category.length * 36 + 16) + "px";
      chart("chart-category", {
        tooltip: { trigger: "axis" },
        grid: { left: 4, right: 8, top: 16, bottom: 4 },
        xAxis: { type: "value", show: false },
        yAxis: { type: "category", inverse: true, show: false, data: d.by_category.map(function (kv) { return kv[0]; }) },
        series: [{
          name: labels.orders, type: "bar", barWidth: 10,
          data: d.by_category.map(function (kv) { return kv[1]; }),
          label: { show: true, position: [0, -15], formatter: "{b} · {c}", color: "#222",
            width: Math.max(120, categoryEl.clientWidth - 12), overflow: "break" },
        }],
      });
      chart("chart-hour", {
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 12, top: 12, bottom: 24 },
        xAxis: { type: "category", data: d.by_hour.map(function (_v, i) { return i + ":00"; }) },
        yAxis: { type: "value" },
        series: [{ name: labels.orders, type: "bar", data: d.by_hour }],
      });
      var keys = ["lt1h", "lt2h", "lt24h", "lt3d", "lt7d", "ge7d"];
      chart("chart-response", {
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 12, top: 12, bottom: 24 },
        xAxis: { type: "category", data: labels.buckets, axisLabel: { interval: 0 } },
        yAxis: { type: "value" },
        series: [{ name: labels.orders, type: "bar", data: keys.map(function (k) { return d.response[k] || 0; }) }],
      });
      document.getElementById("chart-load").style.height = Math.max(300, d.load.length * 22 + 60) + "px";
      var loadChart = chart("chart-load", {
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 110, right: 16, top: 28, bottom: 24 },
        xAxis: { type: "value" },
        yAxis: { type: "category", inverse: true, axisLabel: { interval: 0, fontSize: 11 },
          data: d.load.map(function (r) { return r.unit; }) },
        series: [
          { name: labels.open, type: "bar", data: d.load.map(function (r) { return r.open; }) },
          { name: labels.overdue, type: "bar", itemStyle: { color: "#c62828" }, data: d.load.map(function (r) { return r.overdue; }) },
        ],
      });
      // a bar opens the orders it counts; the same links as a list for the keyboard
      loadChart.on("click", function (p) {
        var r = d.load[p.dataIndex];
        if (r) window.location.href = p.seriesIndex === 1 ? r.overdue_url : r.open_url;
      });
      loadLinks(document.getElementById("load-links"), d.load, labels);
      heatTable(document.getElementById("heat"), d.heat, root.dataset.scorecardUrl, d.snapshot, labels);
    });

  function loadLinks(el, rows, labels) {
    if (!el) return;
    el.textContent = "";
    rows.forEach(function (r) {
      var li = document.createElement("li");
      li.appendChild(document.createTextNode(r.unit + " · " + labels.open + " "));
      var open = document.createElement("a");
      open.href = r.open_url;
      open.textContent = r.open;
      li.appendChild(open);
      li.appendChild(document.createTextNode(" · " + labels.overdue + " "));
      var late = document.createElement("a");
      late.href = r.overdue_url;
      late.textContent = r.overdue;
      li.appendChild(late);
      el.appendChild(li);
    });
  }

  // District → street table; each cell coloured by composite (red low → green high), linked to the
  // street's scorecard. A table, not a picture, so it reads with a keyboard and a screen reader.
  function heatTable(el, groups, scorecardUrl, snapshot, labels) {
    el.textContent = "";
    var table = document.createElement("table");
    table.className = "table heat-table";
    groups.forEach(function (g) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.textContent = g.district;
      tr.appendChild(th);
      var td = document.createElement("td");
      g.streets.forEach(function (s) {
        var a = document.createElement("a");
        a.className = "heat-cell" + (s.flagged ? " heat-flagged" : "");
        a.href = scorecardUrl.replace("/0/", "/" + s.unit_id + "/") + (snapshot ? "?snapshot=" + snapshot : "");
        a.textContent = s.name.replace(/(街道|地区|镇|乡)$/, "") + " " + (s.composite === null ? "—" : s.composite.toFixed(1));
        a.title = s.name + (s.flagged ? " · " + labels.flagged : "");
        if (s.composite !== null && !s.flagged) {
          var t = Math.max(0, Math.min(1, (s.composite - 80) / 20));
          a.style.background = "hsl(" + Math.round(t * 120) + ", 65%, 85%)";
        }
        td.appendChild(a);
      });
      tr.appendChild(td);
      table.appendChild(tr);
    });
    el.appendChild(table);
  }
})();
