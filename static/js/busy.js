// Long tasks (bulk issue and slips, imports, bulk create and open/close): while the
// server works, say so and count the seconds, and keep a second click from sending
// the form twice. Forms opt in with data-busy="message"; a button whose answer is a
// download opts out with data-no-busy. Without JavaScript the forms work the same,
// just without the running count. (Exports are links: the browser shows the download.)
(function () {
  "use strict";
  function start(form, submitter) {
    var status = form.querySelector(".busy-status");
    if (!status) {
      status = document.createElement("p");
      status.className = "busy-status";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      form.appendChild(status);
    }
    // The message carries "{s}" where the elapsed seconds go (translated in the template).
    var message = form.getAttribute("data-busy") || "… {s}";
    var began = Date.now();
    function tick() {
      status.textContent = message.replace("{s}", String(Math.round((Date.now() - began) / 1000)));
    }
    tick();
    window.setInterval(tick, 1000);
    window.setTimeout(function () {
      form.querySelectorAll("button, input[type=submit]").forEach(function (b) {
        if (b !== submitter) { b.disabled = true; }
      });
    }, 0);
    form.setAttribute("aria-busy", "true");
  }
  // Back on this page from the browser's history: the form may be used again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[aria-busy=true]").forEach(function (f) {
      f.removeAttribute("aria-busy");
      f.querySelectorAll("button, input[type=submit]").forEach(function (b) { b.disabled = false; });
    });
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-busy")) { return; }
    // A button whose answer is a download (the page stays) opts out: nothing would stop the count.
    if (event.submitter && event.submitter.hasAttribute("data-no-busy")) { return; }
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    start(form, event.submitter);
  });
})();
