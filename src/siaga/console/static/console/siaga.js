/* Siaga112 pages: API calls with the session and CSRF token, live events, time in WIB, translations. */
(function () {
  "use strict";
  const t = (s) => (window.gettext ? window.gettext(s) : s);
  const gettext = t;

  function cookie(name) {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return hit ? decodeURIComponent(hit.split("=")[1]) : "";
  }

  async function api(method, path, body) {
    // the page's language, not the browser's: errors come back in the language the user reads here
    const options = { method, credentials: "same-origin",
                      headers: { Accept: "application/json", "Accept-Language": document.documentElement.lang || "id" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    if (method !== "GET") options.headers["X-CSRFToken"] = cookie("csrftoken");
    const response = await fetch("/api/v1" + path, options);
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const message = (data && data.error && data.error.message) || response.statusText;
      const error = new Error(message);
      error.status = response.status;
      error.field = data && data.error ? data.error.field : null;
      throw error;
    }
    return data;
  }

  /* Server-Sent Events with reconnection; `handler(message)` gets {topic, data, at}. A message with the
     topic "live.resync" says events may have been missed (the stream was reconnected, perhaps to another
     node, or the server's live bus was away and is back): the page reloads what it shows. */
  function live(topics, handler, onState) {
    let source = null;
    let retry = 1000;
    let lost = false;
    function open() {
      source = new EventSource("/live/events" + (topics ? "?topics=" + encodeURIComponent(topics) : ""));
      source.onopen = () => {
        retry = 1000;
        if (onState) onState(true);
        if (lost) { lost = false; handler({ topic: "live.resync", data: { reason: "reconnected" }, at: null }); }
      };
      source.onmessage = (e) => {
        let message;
        try { message = JSON.parse(e.data); } catch (err) { return; }
        if (message.topic === "session.ended") {  // logged out, token revoked or user deactivated
          source.close();
          window.location.assign("/login/?next=" + encodeURIComponent(window.location.pathname));
          return;
        }
        handler(message);
      };
      source.onerror = () => {
        lost = true;
        if (onState) onState(false);
        source.close();
        setTimeout(open, retry);
        retry = Math.min(retry * 2, 15000);
      };
    }
    open();
    return () => source && source.close();
  }

  // Times are shown in WIB, written the way the page's language writes them (11.05 / 11:05).
  const LANG = (document.documentElement.lang || "id").startsWith("en") ? "en" : "id";
  const LOCALE = LANG === "en" ? "en-GB" : "id-ID";
  const wib = new Intl.DateTimeFormat(LOCALE, {
    timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  const wibClock = new Intl.DateTimeFormat(LOCALE, {
    timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  const wibDate = new Intl.DateTimeFormat(LOCALE, {
    timeZone: "Asia/Jakarta", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  const longDay = new Intl.DateTimeFormat(LOCALE, {
    timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric",
  });
  function time(iso) { return iso ? wib.format(new Date(iso)) : "—"; }
  function clock(iso) { return iso ? wibClock.format(new Date(iso)) : "—"; }
  function dateTime(iso) { return iso ? wibDate.format(new Date(iso)) : "—"; }
  /* A calendar day (YYYY-MM-DD) with its weekday: "Rab, 2 Des 2026". */
  function day(isoDate) { return isoDate ? longDay.format(new Date(isoDate + "T00:00:00Z")) : "—"; }
  function ago(iso) {
    if (!iso) return "";
    const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    if (s < 60) return s + " " + gettext("dtk");
    if (s < 3600) return Math.floor(s / 60) + " " + gettext("mnt");
    return Math.floor(s / 3600) + " " + gettext("jam");
  }
  /* A length of time in minutes as a person says it: "45 mnt", "3 jam 23 mnt". */
  function minutes(n) {
    const value = Math.round(Number(n) || 0);
    if (value < 60) return `${value} ${gettext("mnt")}`;
    const rest = value % 60;
    return `${Math.floor(value / 60)} ${gettext("jam")}` + (rest ? ` ${rest} ${gettext("mnt")}` : "");
  }
  /* "1 panggilan" / "1 call", "3 calls": Indonesian has one form, English two (`one` and `many` are the
     page's words for each, e.g. pgettext("satu", "panggilan") and pgettext("banyak", "panggilan")). */
  function count(n, one, many) {
    return `${n} ${LANG === "en" && n !== 1 ? many : one}`;
  }
  // The shift names the demo and most cities use, in the page's language (others as they are).
  const SHIFT_NAMES = { Pagi: gettext("Pagi"), Siang: gettext("Siang"), Malam: gettext("Malam"), Sore: gettext("Sore") };
  function shiftName(name) { return SHIFT_NAMES[name] || name || ""; }
  /* The next sanction for a number, from its configured label ("warn", "24h", "3d", "permanent"). */
  function stage(label) {
    if (!label) return "—";
    if (label === "warn") return gettext("peringatan");
    if (label === "permanent") return gettext("blokir permanen");
    const hours = /^(\d+)h$/.exec(label);
    if (hours) return `${gettext("blokir")} ${hours[1]} ${gettext("jam")}`;
    const days = /^(\d+)d$/.exec(label);
    if (days) return `${gettext("blokir")} ${days[1]} ${gettext("hari")}`;
    return label;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child.nodeType ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /* Replace a node's children; null, undefined and false (an optional part left out) are skipped, as in el(). */
  function fill(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false)
      .map((c) => (c.nodeType ? c : document.createTextNode(String(c)))));
    return node;
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  function toast(message, kind) {
    const box = document.getElementById("toasts") || document.body.appendChild(el("div", { id: "toasts" }));
    const item = el("div", { class: "toast " + (kind || "info"), role: "status", text: message });
    box.append(item);
    setTimeout(() => item.remove(), 5000);
  }

  function typing(event) {
    const tag = (event.target && event.target.tagName) || "";
    return ["INPUT", "TEXTAREA", "SELECT"].includes(tag) || (event.target && event.target.isContentEditable);
  }

  const PRIORITY_COLOURS = { 1: "#c62828", 2: "#ef6c00", 3: "#f9a825", 4: "#2e7d32" };
  const INCIDENT_STATUS = {
    new: gettext("Baru"), verified: gettext("Terverifikasi"), dispatched: gettext("Diteruskan"),
    on_scene: gettext("Petugas di lokasi"), resolved: gettext("Tertangani"), closed: gettext("Ditutup"),
    cancelled: gettext("Dibatalkan"), duplicate: gettext("Duplikat"),
  };
  const DISPATCH_STATUS = {
    requested: gettext("Diminta"), acknowledged: gettext("Diterima"), en_route: gettext("Dalam perjalanan"),
    on_scene: gettext("Di lokasi"), completed: gettext("Selesai"), declined: gettext("Ditolak"),
    cancelled: gettext("Ditarik"),
  };

  window.Siaga = { t, api, live, time, clock, dateTime, day, ago, minutes, count, shiftName, stage, LANG, el, fill, debounce, toast, typing, PRIORITY_COLOURS,
                   INCIDENT_STATUS, DISPATCH_STATUS };
})();
