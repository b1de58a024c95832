// The console's only script: the Now board follows the server's events, the other pages
// showing today fetch their figures again when the same channel says something changed, the
// report pages draw their charts (Chart.js, shipped beside this file) from the figures the
// page carries, and the large-type (wallboard) mode is remembered by the browser.
(function () {
  "use strict";
  var board = document.getElementById("board");
  // A site's board (no stream: the page is fetched again) has durations to count too.
  var counted = board || document.getElementById("site-board");
  var state = document.getElementById("live-state");
  function say(text) { if (state) { state.textContent = text; } }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  // As bot.console.render.duration: 42s, 7m 05s, 2h 14m.
  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) { return s + "s"; }
    if (s < 3600) { return Math.floor(s / 60) + "m " + two(s % 60) + "s"; }
    return Math.floor(s / 3600) + "h " + two(Math.floor(s % 3600 / 60)) + "m";
  }
  // The board carries no duration (each would change every second, and every row with it):
  // each cell with data-since counts from it, on the server's clock (the stamp's data-at,
  // taken as now when the board or its patch came).
  var skew = 0;
  function tick() {
    var now = Date.now() + skew;
    Array.prototype.forEach.call(counted.querySelectorAll("[data-since]"), function (cell) {
      var text = duration(now - parseInt(cell.getAttribute("data-since"), 10));
      if (cell.textContent !== text) { cell.textContent = text; }
    });
  }
  function clock() {
    var at = counted.querySelector("[data-at]");
    if (at) { skew = parseInt(at.getAttribute("data-at"), 10) - Date.now(); }
    tick();
  }
  function shown() {
    clock();
    board.setAttribute("data-updated", String(Date.now()));
    say("live");
  }
  function element(html) {
    var made = document.createElement("template");
    made.innerHTML = html;
    return made.content.firstElementChild;
  }
  // A patch (bot.console.fragments.diff): per list, the rows removed, then each row put after
  // the one named (or first), in place of the row of its key. False if the board does not
  // have what it names: the stream then starts again and sends the whole board.
  function patch(change) {
    var names = Object.keys(change.lists);
    for (var i = 0; i < names.length; i++) {
      var list = board.querySelector('[data-list="' + names[i] + '"]');
      if (!list) { return false; }
      var rows = {};
      Array.prototype.forEach.call(list.children, function (row) {
        rows[row.getAttribute("data-key")] = row;
      });
      var diff = change.lists[names[i]];
      diff.remove.forEach(function (key) { if (rows[key]) { rows[key].remove(); } });
      for (var j = 0; j < diff.put.length; j++) {
        var key = diff.put[j][0], after = diff.put[j][1], row = element(diff.put[j][2]);
        if (rows[key]) { rows[key].remove(); }
        if (after === null) { list.prepend(row); }
        else if (rows[after]) { rows[after].after(row); }
        else { return false; }
        rows[key] = row;
      }
    }
    return true;
  }
  if (counted) {
    clock();
    setInterval(tick, 1000);
  }
  if (board && window.EventSource) {
    var listen = function (url) {
      var source = new EventSource(url);
      source.addEventListener("open", function () { say("live"); });
      source.addEventListener("error", function () { say("reconnecting…"); });
      source.addEventListener("now", function (event) {
        board.innerHTML = event.data;
        shown();
      });
      source.addEventListener("patch", function (event) {
        if (patch(JSON.parse(event.data))) { shown(); return; }
        source.close();
        listen(url.replace(/since=[^&]*/, "since=-1"));
      });
    };
    listen(board.getAttribute("data-live"));
  }
  var toggle = document.getElementById("large-toggle");
  var body = document.body;
  if (window.localStorage && localStorage.getItem("blendbot-large") === "1") {
    body.classList.add("large");
  }
  if (toggle) {
    toggle.setAttribute("aria-pressed", body.classList.contains("large") ? "true" : "false");
    toggle.addEventListener("click", function () {
      var on = body.classList.toggle("large");
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      if (window.localStorage) { localStorage.setItem("blendbot-large", on ? "1" : "0"); }
    });
  }
  var colors = ["#2456c7", "#a86200", "#1c7c3a", "#b3261e", "#7a8594", "#8e44ad"];
  // A dashed line on each day blending was switched on.
  var marks = {
    id: "marks",
    afterDatasetsDraw: function (chart, args, options) {
      var ctx = chart.ctx, area = chart.chartArea, x = chart.scales.x;
      (options.days || []).forEach(function (day) {
        var at = x.getPixelForValue(chart.data.labels.indexOf(day));
        if (isNaN(at)) { return; }
        ctx.save();
        ctx.strokeStyle = "#1d2330"; ctx.setLineDash([6, 4]); ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(at, area.top); ctx.lineTo(at, area.bottom); ctx.stroke();
        ctx.fillStyle = "#1d2330"; ctx.fillText("blending on", at + 4, area.top + 10);
        ctx.restore();
      });
    }
  };
  function draw(canvas, data) {
    if (data.type === "lulls") {
      // Agents scheduled as bars, the forecast's need as a line: where the bars stand above
      // the line, agents are spare.
      data.series = [
        { label: "agents scheduled", values: data.staffed },
        { label: "agents the forecast needs", values: data.need }
      ];
    }
    var datasets = data.series.map(function (s, i) {
      return { label: s.label, data: s.values, backgroundColor: colors[i % colors.length],
               borderColor: colors[i % colors.length], spanGaps: true,
               maxBarThickness: 60 };
    });
    var config;
    if (data.type === "time") {
      config = { type: "bar", data: { labels: data.labels, datasets: datasets },
        options: { indexAxis: "y", scales: { x: { stacked: true, title: { display: true, text: "hours" } },
                                             y: { stacked: true } } } };
    } else if (data.type === "trends") {
      datasets.forEach(function (d) { d.type = "line"; d.yAxisID = "y"; d.pointRadius = 2; });
      datasets.push({ type: "bar", label: "back-office done", data: data.throughput, yAxisID: "y1",
                      backgroundColor: "rgba(122,133,148,.35)" });
      config = { type: "bar", data: { labels: data.labels, datasets: datasets },
        options: { plugins: { marks: { days: data.marks } },
                   scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } },
                             y1: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                                   title: { display: true, text: "tasks" } } } },
        plugins: [marks] };
    } else if (data.type === "lulls") {
      datasets[0].backgroundColor = "rgba(28,124,58,.45)";
      datasets[1].type = "line"; datasets[1].borderColor = "#b3261e"; datasets[1].pointRadius = 0;
      datasets[1].stepped = "middle"; datasets[1].borderWidth = 2;
      config = { type: "bar", data: { labels: data.labels, datasets: datasets },
        options: { scales: { y: { beginAtZero: true, title: { display: true, text: "agents" } } } } };
    } else if (data.type === "plan") {
      // Extra hours up, hours to spare down, a colour per skill set.
      datasets.forEach(function (d, i) {
        var c = colors[Math.floor(i / 3) % colors.length];
        d.backgroundColor = i % 3 === 1 ? "rgba(255,255,255,0)" : c;
        d.borderColor = c; d.borderWidth = i % 3 === 1 ? 2 : 0;
        if (i % 3 === 2) { d.backgroundColor = c + "66"; }
      });
      config = { type: "bar", data: { labels: data.labels, datasets: datasets },
        options: { scales: { y: { title: { display: true, text: "hours (spare below 0)" } } } } };
    } else if (data.type === "bands") {
      // Each type's line with its 80% band filled behind it.
      datasets = [];
      data.series.forEach(function (s, i) {
        var c = colors[i % colors.length];
        datasets.push({ label: s.label + " 80% high", data: s.hi, borderWidth: 0, pointRadius: 0,
                        backgroundColor: c + "33", fill: false });
        datasets.push({ label: s.label + " 80% low", data: s.lo, borderWidth: 0, pointRadius: 0,
                        backgroundColor: c + "33", fill: "-1" });
        datasets.push({ label: s.label, data: s.values, borderColor: c, backgroundColor: c,
                        pointRadius: 2, fill: false });
      });
      config = { type: "line", data: { labels: data.labels, datasets: datasets },
        options: { plugins: { legend: { labels: { filter: function (item) {
                     return item.text.indexOf(" 80% ") < 0; } } } },
                   scales: { y: { beginAtZero: true, title: { display: true, text: data.y || "backlog hours" } } } } };
    } else {
      config = { type: "bar", data: { labels: data.labels, datasets: datasets },
        options: { plugins: { legend: { display: false } } } };
    }
    config.options.animation = false;
    config.options.maintainAspectRatio = false;
    canvas.chart = new window.Chart(canvas, config);
    canvas.setAttribute("data-drawn", "true");
  }
  function drawAll(root) {
    if (!window.Chart) { return; }
    Array.prototype.forEach.call(root.querySelectorAll("script.chart-data"), function (el) {
      var canvas = document.getElementById(el.getAttribute("data-for"));
      if (canvas) { draw(canvas, JSON.parse(el.textContent)); }
    });
  }
  drawAll(document);
  // A page of today's figures: on a change it names in data-on ("decisions", "work"), at most
  // once per data-soon ms, and on any other change when data-on has "any", at most once per
  // data-every ms, it fetches itself and takes the new main part (not while a form in it has
  // the focus: the next change does it).
  var main = document.querySelector("main[data-changes]");
  if (main && window.EventSource && window.fetch && window.DOMParser) {
    var on = (main.getAttribute("data-on") || "").split(" ");
    var every = parseInt(main.getAttribute("data-every"), 10) || 60000;
    var soon = parseInt(main.getAttribute("data-soon"), 10) || 1000;
    var last = Date.now(), pending = null, due = 0, busy = false;
    var refresh = function () {
      pending = null;
      var active = document.activeElement;
      if (busy || (active && active.form && main.contains(active))) { return; }
      busy = true; last = Date.now();
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (text) {
          var fresh = text && new DOMParser().parseFromString(text, "text/html").querySelector("main");
          if (fresh) {
            Array.prototype.forEach.call(main.querySelectorAll("canvas"), function (c) {
              if (c.chart) { c.chart.destroy(); }
            });
            main.innerHTML = fresh.innerHTML;
            drawAll(main);
            main.setAttribute("data-updated", String(Date.now()));
          }
        })
        .catch(function () { /* the next change tries again */ })
        .then(function () { busy = false; });
    };
    var changes = new EventSource(main.getAttribute("data-changes"));
    changes.addEventListener("open", function () { main.setAttribute("data-live", "open"); });
    changes.addEventListener("changed", function (event) {
      var named = on.indexOf(event.data) >= 0;
      if (!named && on.indexOf("any") < 0) { return; }
      var at = Math.max(Date.now(), last + (named ? soon : every));
      if (pending) {
        if (at >= due) { return; }
        clearTimeout(pending);
      }
      due = at;
      pending = setTimeout(refresh, at - Date.now());
    });
  }
})();
