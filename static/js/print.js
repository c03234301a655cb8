// Print buttons (data-print) on the slip page: no inline script, the CSP allows only files from /static.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
