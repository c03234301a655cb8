// Destructive and bulk actions ask once before they act: a form (or the button that submits
// it) carries data-confirm="what will happen", written in the template in the page's
// language. Runs in the capture phase, before busy.js, so a "no" stops the form entirely.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) ||
      (event.target.getAttribute && event.target.getAttribute("data-confirm"));
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
