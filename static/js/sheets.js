// Scan batch progress: post "read the next pages" again and again while the page is open and
// show each answer's counts, so the operator watches the stack being read. Leaving the page
// stops it; opening it again resumes where it stopped (the server keeps the place). Without
// JavaScript the "continue" button does one step per click.
(function () {
  "use strict";
  var box = document.getElementById("sheets-progress");
  var form = document.getElementById("sheets-step");
  if (!box || !form || !window.fetch) { return; }
  var bar = document.getElementById("sheets-bar");
  var count = document.getElementById("sheets-count");
  var summary = document.getElementById("sheets-summary");
  var review = document.getElementById("sheets-review");
  var pending = document.getElementById("sheets-pending");
  var label = count.textContent;
  form.hidden = true;
  function show(data) {
    bar.max = data.total || 1;
    bar.value = data.done;
    count.textContent = data.finished ? box.getAttribute("data-done-label") : data.done + " / " + data.total;
    summary.textContent = data.summary;
    pending.textContent = data.pending;
    review.hidden = !data.pending;
  }
  function next() {
    fetch(form.action, {method: "POST", credentials: "same-origin", body: new FormData(form),
                        headers: {"Accept": "application/json"}})
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (data) {
        show(data);
        if (!data.finished) { window.setTimeout(next, 0); }
      })
      .catch(function () { form.hidden = false; count.textContent = label; });
  }
  next();
}());
