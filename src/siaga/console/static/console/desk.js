/* The warnings desk: reload when a warning, a draft, a quake or a feed changes (the page is server-rendered). */
(function () {
  "use strict";
  let pending = null;
  function soon(message) {
    if (message && !/^(alert|hazard)\./.test(message.topic || "")) return;  // e.g. the stream's "hello"
    if (pending) return;
    const typing = document.activeElement && ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    pending = setTimeout(() => {
      pending = null;
      const busy = document.activeElement && ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
      if (busy || document.querySelector("details[open]")) soon(); else window.location.reload();
    }, typing ? 5000 : 400);
  }
  if (window.Siaga && window.Siaga.live) {
    window.Siaga.live("alert.,hazard.", soon, (up) => {
      const state = document.getElementById("live-state");
      if (state) state.className = up ? "live on" : "live off";
    });
  }
})();
