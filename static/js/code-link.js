/* A slip's QR code opens /v#K7QX-M3PD-9TWR: the part after "#" never leaves the browser, so no
   proxy or server log sees the code. This copies it into the code box, removes it from the address
   bar and history, and sends the form: the code reaches the server only in the form body.
   Without JavaScript the rater types the code printed on the slip into the same box. */
(function () {
  "use strict";
  var form = document.getElementById("code-entry");
  var code = decodeURIComponent((window.location.hash || "").slice(1)).trim();
  if (!form || !code) { return; }
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname);
  }
  var box = form.querySelector("input[name=code]");
  if (!box) { return; }
  box.value = code;
  form.submit();
}());
