/* The public warnings page: listen to the public stream and reload when a warning is issued or ends. */
(function () {
  "use strict";
  if (!window.EventSource) return;
  let retry = 2000;
  function open() {
    const source = new EventSource("/peringatan/stream");
    source.onmessage = (e) => {
      let message;
      try { message = JSON.parse(e.data); } catch (err) { return; }
      if (message.topic === "public.alert" || message.topic === "alert.expired" ||
          message.topic === "live.resync") window.location.reload();
    };
    source.onerror = () => { source.close(); setTimeout(open, retry); retry = Math.min(retry * 2, 30000); };
    source.onopen = () => { retry = 2000; };
  }
  open();
})();
