// Live turnout: every 15 seconds (while the tab is visible) read turnout.json and put the
// new counts into the table and the totals, so organisers watching a meeting's voting see
// ballots arrive without reloading. Rows that appear later (a new batch) need a reload;
// the page says so. Without JavaScript the page shows the counts of its last load.
(function () {
  "use strict";
  var live = document.getElementById("turnout-live");
  if (!live || !window.fetch) { return; }
  var source = live.getAttribute("data-source");
  var updated = live.getAttribute("data-updated");
  live.textContent = live.getAttribute("data-auto");
  var rows = {};
  document.querySelectorAll("tr[data-turnout]").forEach(function (tr) {
    rows[tr.getAttribute("data-turnout")] = tr;
  });
  function put(cell, value) {
    if (cell && cell.textContent !== String(value)) { cell.textContent = value; }
  }
  function refresh() {
    if (document.hidden) { return; }
    fetch(source, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        ["issued", "used", "rate"].forEach(function (field) {
          var value = field === "rate" ? data.rate : data[field].toLocaleString(document.documentElement.lang);
          put(document.querySelector("[data-total=" + field + "]"), value);
        });
        data.rows.forEach(function (row) {
          var tr = rows[row.key];
          if (!tr) { return; }
          put(tr.querySelector("[data-field=issued]"), row.issued);
          put(tr.querySelector("[data-field=used]"), row.used);
          put(tr.querySelector("[data-field=rate]"), row.rate);
        });
        live.textContent = updated.replace("{time}", new Date().toLocaleTimeString(document.documentElement.lang));
      })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  }
  window.setInterval(refresh, 15000);
  document.addEventListener("visibilitychange", refresh);
})();
