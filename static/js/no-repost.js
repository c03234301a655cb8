/* A rater page that answers a POST (a missed item, an expired token) would make Back from the
   thanks page, or a reload, offer to send the form again. This turns the page's history entry
   into a plain GET of the questionnaire's own address (data-url), which shows the form for the
   code still open in this browser — or, once the ballot is stored, that it was submitted.
   The URL carries no code. Without JavaScript nothing changes but that offer. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-url");
  if (url && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", url);
  }
}());
