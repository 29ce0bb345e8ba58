/* The command-centre wall: 1920x1080, read-only, live. Map, board, today's KPIs, on duty, warnings. */
(function () {
  "use strict";
  const S = window.Siaga;
  const { el } = S;
  const gettext = S.t;
  const root = document.getElementById("wall");
  const state = { map: null, layers: {}, categories: {}, agencies: {} };

  const pct = (x) => (x === null || x === undefined ? "—" : Math.round(x * 100) + "%");
  const minutes = (s) => (s === null || s === undefined ? "—" : s < 60 ? Math.round(s) + " " + gettext("dtk")
    : (s / 60).toFixed(1) + " " + gettext("mnt"));

  function tile(label, value, extra, cls) {
    return el("div", { class: "kpi " + (cls || "") }, el("div", { class: "v", text: value }),
      el("div", { class: "l", text: label }), extra ? el("div", { class: "x", text: extra }) : null);
  }

  async function loadKpis() {
    const k = await S.api("GET", "/kpis/today");
    const ok = k.answered_within_15s !== null && k.answered_within_15s >= k.nena_target;
    document.getElementById("kpis").replaceChildren(
      tile(gettext("Panggilan hari ini"), String(k.calls)),
      tile(gettext("Prank"), pct(k.share_prank)), tile(gettext("Ghost"), pct(k.share_ghost)),
      tile(gettext("Informasi"), pct(k.share_information)),
      tile(gettext("Dijawab ≤ 15 dtk"), pct(k.answered_within_15s), gettext("target NENA") + " " + pct(k.nena_target),
           k.answered_within_15s === null ? "" : ok ? "good" : "bad"),
      tile(gettext("Median sampai diteruskan"), minutes(k.median_dispatch_seconds)),
      tile(gettext("Kejadian terbuka"), String(k.open_incidents)));
    document.getElementById("agencies").replaceChildren(...Object.entries(k.open_by_agency).map(([code, n]) =>
      el("li", {}, el("span", { text: (state.agencies[code] || {}).short_name || code }), el("strong", { text: String(n) }))));
  }

  async function loadIncidents() {
    const incidents = await S.api("GET", "/incidents?open=true&limit=100");
    const board = document.getElementById("board");
    const rows = incidents.slice().sort((a, b) => a.priority - b.priority || b.created_at.localeCompare(a.created_at));
    board.replaceChildren(...rows.slice(0, 14).map((i) => el("tr", { class: "p" + i.priority },
      el("td", { text: i.ticket.slice(-6) }), el("td", { text: state.categories[i.category] || i.category }),
      el("td", { class: "st " + i.status, text: S.INCIDENT_STATUS[i.status] || i.status }),
      el("td", { text: i.agencies.map((c) => (state.agencies[c] || {}).short_name || c).join(", ") }),
      el("td", { text: S.time(i.created_at) }))));
    document.getElementById("board-more").textContent = rows.length > 14 ? `+${rows.length - 14} ${gettext("lainnya")}` : "";
    if (!state.map) return;
    if (state.layers.incidents) state.layers.incidents.remove();
    state.layers.incidents = L.layerGroup(incidents.filter((i) => i.lat !== null).map((i) =>
      SiagaMap.incidentMarker({ ...i, category: state.categories[i.category] }))).addTo(state.map);
    root.dataset.incidents = String(incidents.length);
  }

  async function loadPresence() {
    const [now, online] = await Promise.all([S.api("GET", "/shifts/current"), S.api("GET", "/presence")]);
    const duty = document.getElementById("duty");
    const flag = document.getElementById("handover-flag");
    document.getElementById("shift-name").textContent = now.shift ? `${now.shift.name} ${S.time(now.shift.starts_at)}–${S.time(now.shift.ends_at)}` : "";
    const people = now.shift ? now.shift.people : [];
    if (people.length) {  // the roster: planned people, present or not
      duty.replaceChildren(...people.map((p) => el("li", { class: p.started_at && !p.ended_at ? "present" : "absent" },
        el("span", { text: p.name + (p.role === "supervisor" ? " (S)" : "") }),
        el("span", { class: "muted", text: p.started_at ? (p.ended_at ? gettext("selesai") : S.time(p.started_at) +
          (p.late_minutes ? ` +${p.late_minutes}′` : "")) : gettext("belum hadir") }))));
    } else {  // no roster yet: who is logged in
      duty.replaceChildren(...online.map((p) => el("li", {},
        el("span", { text: p.name }), el("span", { class: "muted", text: p.roles.join(", ") }))));
    }
    const pending = now.pending_handover;
    const overdue = pending && Date.now() - new Date(now.shift.starts_at).getTime() > 15 * 60 * 1000;
    flag.hidden = !pending;
    flag.className = overdue ? "flag bad" : "flag";
    flag.textContent = pending ? `${gettext("Serah terima belum diterima")}: ${pending.from_shift} (${pending.written_by})` : "";
  }

  async function loadWarnings() {
    const [warnings, evacuation, review] = await Promise.all([S.api("GET", "/warnings/active"),
      S.api("GET", "/evacuation"), S.api("GET", "/hazards/review")]);
    const flag = document.getElementById("review-flag");
    flag.hidden = !review.length;  // automatic decisions taken in the safe direction: a supervisor should look
    flag.textContent = review.length ? `⚠ ${gettext("Perlu ditinjau supervisor")}: ` + review.map((e) =>
      `M${e.magnitude.toFixed(1)} ${e.region} (${e.review.map(reasonText).join("; ")})`).join(" · ") : "";
    const banner = document.getElementById("banner");
    banner.hidden = !warnings.length;
    root.classList.toggle("has-banner", warnings.length > 0);
    banner.className = warnings.some((w) => w.level === "fullscreen") ? "banner fullscreen" : "banner";
    banner.replaceChildren(...warnings.map((w) => el("div", {},
      w.exercise ? el("strong", { text: gettext("LATIHAN") + " · " }) : null, w.headline)));
    root.classList.toggle("evacuation-alert", evacuation.fullscreen_warning);
    if (!state.map) return;
    if (state.layers.evacuation) state.layers.evacuation.remove();
    const strong = evacuation.fullscreen_warning;
    state.layers.evacuation = L.geoJSON(evacuation, {
      style: { color: "#2e7d32", weight: strong ? 7 : 3, opacity: strong ? 1 : 0.6 },
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: strong ? 11 : 6, color: "#1b5e20",
                                                            fillColor: "#66bb6a", fillOpacity: 1 }),
      onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name, { permanent: strong }),
    }).addTo(state.map);
    document.getElementById("unplaced").textContent = evacuation.unplaced.length
      ? `${evacuation.unplaced.length} ${gettext("tempat/jalur evakuasi belum berkoordinat")}` : "";
  }

  function reasonText(code) {
    return {
      tsunami_criteria: gettext("memenuhi kriteria tsunami BMKG"),
      unknown_potential_wording: gettext("kalimat potensi BMKG belum dikenal"),
      inatews_zone_unreadable: gettext("zona InaTEWS tidak terbaca"),
      revision_lower_held: gettext("pembaruan BMKG akan menurunkan peringatan; peringatan tetap"),
    }[code] || code;
  }

  function clock() {
    document.getElementById("clock").textContent = S.time(new Date().toISOString()) + " WIB";
  }

  const refresh = {
    incidents: S.debounce(() => { loadIncidents(); loadKpis(); }, 200),
    calls: S.debounce(loadKpis, 1000),
    warnings: S.debounce(loadWarnings, 200),
    presence: S.debounce(() => loadPresence(), 300),
  };

  async function start() {
    const [categories, agencies] = await Promise.all([S.api("GET", "/categories"), S.api("GET", "/agencies")]);
    state.categories = Object.fromEntries(categories.map((c) => [c.code, c.name]));
    state.agencies = Object.fromEntries(agencies.map((a) => [a.code, a]));
    S.live("incident.,dispatch.,warning.,presence.,roster.,hazard.", (m) => {
      if (m.topic.startsWith("incident.") || m.topic.startsWith("dispatch.")) refresh.incidents();
      else if (m.topic.startsWith("warning.") || m.topic.startsWith("hazard.")) refresh.warnings();
      else refresh.presence();
    }, (up) => { document.getElementById("live-state").className = up ? "live on" : "live off"; });
    try {
      state.map = await SiagaMap.cityMap(document.getElementById("map"), { wall: true, tiles: root.dataset.tiles || null });
    } catch (error) {
      S.toast(gettext("Peta tidak dapat dimuat") + ": " + error.message, "error");
    }
    await Promise.all([loadKpis(), loadIncidents(), loadPresence(), loadWarnings()]);
    clock();
    setInterval(clock, 1000);
    setInterval(loadKpis, 30000);      // calls are many: the tiles refresh on a timer
    setInterval(loadPresence, 30000);
    root.dataset.ready = "1";
  }

  start();
})();
