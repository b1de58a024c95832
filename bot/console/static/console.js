// The console's only script: the Now board follows the server's events, and the large-type
// (wallboard) mode is remembered by the browser.
(function () {
  "use strict";
  var board = document.getElementById("board");
  var state = document.getElementById("live-state");
  function say(text) { if (state) { state.textContent = text; } }
  if (board && window.EventSource) {
    var source = new EventSource(board.getAttribute("data-live"));
    source.addEventListener("open", function () { say("live"); });
    source.addEventListener("error", function () { say("reconnecting…"); });
    source.addEventListener("now", function (event) {
      board.innerHTML = event.data;
      board.setAttribute("data-updated", String(Date.now()));
      say("live");
    });
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
})();
