// errkb help centre: niceties only; every page works without this file.
// "Copy as reply" copies the article's plain-text reply; Ctrl/Cmd+Enter
// submits the search box.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var label = button.textContent;
    button.hidden = false;
    function done(ok) {
      button.textContent = ok ? "Copied" : "Select the text below and copy it";
      setTimeout(function () { button.textContent = label; }, 2000);
    }
    function fallback() {
      source.focus();
      source.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(function () { done(true); }, fallback);
      } else {
        fallback();
      }
    });
  });
  var box = document.getElementById("q");
  if (box && box.form) {
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { box.form.submit(); }
    });
  }
});
