/* A slip's QR code opens /v#K7QX-M3PD-9TWR: the part after "#" never leaves the browser, so no
   proxy or server log sees the code. This copies it into the code box, removes it from the address
   bar and history, and sends the form: the code reaches the server only in the form body. It also
   marks the form as sent by a browser that runs scripts (see below).
   Without JavaScript the rater types the code printed on the slip into the same box. */
(function () {
  "use strict";
  var form = document.getElementById("code-entry");
  if (!form) { return; }
  // Scripts run here, so the questionnaire may answer the post itself: its own script (no-repost.js)
  // then makes its history entry a GET, and Back never re-posts (surveys/routes.py, SCRIPTED_MARK).
  var mark = document.createElement("input");
  mark.type = "hidden";
  mark.name = "scripted";
  mark.value = "1";
  form.appendChild(mark);
  var code = decodeURIComponent((window.location.hash || "").slice(1)).trim();
  if (!code) { return; }
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname);
  }
  var box = form.querySelector("input[name=code]");
  if (!box) { return; }
  box.value = code;
  form.submit();
}());
