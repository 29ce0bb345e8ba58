/* The command-centre wall: 1920x1080, read-only, live. Map, board, today's KPIs, on duty, warnings. */
(function () {
  "use strict";
  const S = window.Siaga;
  const { el } = S;
  const gettext = S.t;
  const root = document.getElementById("wall");
  const state = { map: null, layers: {}, categories: {}, agencies: {}, kecamatan: [], outline: null, warnings: [] };
  const AREA_COLOUR = { fullscreen: "#d50000", ticker: "#f9a825" };

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
      el("td", { text: i.agencies.map((c) => ((state.agencies[c] || {}).short_name || c)
        + ((i.sms_agencies || []).includes(c) ? " (SMS)" : "")).join(", ") }),
      el("td", { text: S.time(i.created_at) }))));
    document.getElementById("board-more").textContent = rows.length > 14 ? `+${rows.length - 14} ${gettext("lainnya")}` : "";
    state.open = incidents;
    renderByKecamatan();
    root.dataset.incidents = String(incidents.length);
    if (!state.map) return;
    if (state.layers.incidents) state.layers.incidents.remove();
    state.layers.incidents = L.layerGroup(incidents.filter((i) => i.lat !== null).map((i) =>
      SiagaMap.incidentMarker({ ...i, category: state.categories[i.category] }))).addTo(state.map);
  }

  function renderByKecamatan() {
    const incidents = state.open || [];
    const counts = new Map(state.kecamatan.map((k) => [k.id, 0]));
    for (const i of incidents) if (counts.has(i.kecamatan_id)) counts.set(i.kecamatan_id, counts.get(i.kecamatan_id) + 1);
    const most = Math.max(1, ...counts.values());
    const warned = warnedCodes();
    document.getElementById("by-kecamatan").replaceChildren(...state.kecamatan.map((k) => el("li", {
      class: warned.has(k.code) ? "warned" : "", "data-kecamatan": k.code },
      el("span", { text: k.name }),
      el("span", {}, el("div", { class: "bar-fill", style: `width: ${(100 * counts.get(k.id)) / most}%` })),
      el("strong", { text: String(counts.get(k.id)) }))));
  }

  async function loadPresence() {
    const [now, online] = await Promise.all([S.api("GET", "/shifts/current"), S.api("GET", "/presence")]);
    const duty = document.getElementById("duty");
    const flag = document.getElementById("handover-flag");
    document.getElementById("shift-name").textContent = now.shift
      ? `${S.shiftName(now.shift.name)} ${S.clock(now.shift.starts_at)}–${S.clock(now.shift.ends_at)}` : "";
    const people = now.shift ? now.shift.people : [];
    if (people.length) {  // the roster: planned people, present or not
      duty.replaceChildren(...people.map((p) => el("li", { class: p.started_at && !p.ended_at ? "present" : "absent" },
        el("span", { text: p.name + (p.role === "supervisor" ? " (S)" : "") }),
        el("span", { class: "muted", text: p.started_at ? (p.ended_at ? gettext("selesai") : S.clock(p.started_at) +
          (p.late_minutes ? ` (${gettext("terlambat")} ${S.minutes(p.late_minutes)})` : "")) : gettext("belum hadir") }))));
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
    state.warnings = warnings;
    const banner = document.getElementById("banner");
    const wasHidden = banner.hidden;
    banner.hidden = !warnings.length;
    root.classList.toggle("has-banner", warnings.length > 0);
    banner.className = warnings.some((w) => w.level === "fullscreen") ? "banner fullscreen" : "banner";
    // one line per warning, the level first; at most two lines, the rest counted (the side panel lists all)
    banner.replaceChildren(...warnings.slice(0, 2).map((w) => el("div", { class: "line", "data-warning": w.id },
      el("span", { class: "level", text: levelName(w) }),
      w.exercise ? el("strong", { text: gettext("LATIHAN") + " · " }) : null, w.headline)),
      warnings.length > 2 ? el("div", { class: "line small", text: `+${warnings.length - 2} ${gettext("peringatan lain")}` }) : "");
    root.dataset.level = warnings.length ? levelName(warnings[0]) : "";
    renderWarnings(warnings);
    highlightAreas(warnings);
    renderByKecamatan();
    if (state.map && wasHidden !== banner.hidden) state.map.invalidateSize();
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

  /* What a person reads first: the EWS level of a tsunami warning, else what kind of notice it is. */
  function levelName(w) {
    if (w.ews_level) return w.ews_level;
    return (w.event || gettext("Peringatan")).toUpperCase();
  }

  function warnedCodes() {
    const codes = new Set();
    for (const w of state.warnings) {
      for (const code of (w.area_codes.length ? w.area_codes : state.kecamatan.map((k) => k.code))) codes.add(code);
    }
    return codes;
  }

  function kecamatanNames(w) {
    if (!w.area_codes.length || state.kecamatan.every((k) => w.area_codes.includes(k.code))) return gettext("seluruh kota");
    const byCode = Object.fromEntries(state.kecamatan.map((k) => [k.code, k.name]));
    return w.area_codes.map((c) => byCode[c] || c).join(", ");
  }

  function renderWarnings(warnings) {
    const list = document.getElementById("warnings");
    if (!warnings.length) {
      list.replaceChildren(el("li", { class: "none", text: gettext("Tidak ada peringatan aktif.") }));
      return;
    }
    list.replaceChildren(...warnings.map((w) => el("li", { class: w.level, "data-warning": w.id },
      el("div", {}, el("span", { class: "level", text: levelName(w) }),
        w.exercise ? el("strong", { text: gettext("LATIHAN") + " · " }) : null, w.headline),
      el("div", { class: "meta", text: `${kecamatanNames(w)} · ${gettext("terbit")} ${S.time(w.issued_at)}` +
        (w.expires ? ` · ${gettext("berlaku sampai")} ${S.dateTime(w.expires)}` : "") }))));
  }

  /* The warned kecamatan on the map, in the colour of the strongest warning there (a warning without areas
     covers the whole city). */
  function highlightAreas(warnings) {
    if (!state.map || !state.outline) return;
    const strongest = new Map();
    for (const w of warnings) {
      const codes = w.area_codes.length ? w.area_codes : state.kecamatan.map((k) => k.code);
      for (const code of codes) if (strongest.get(code) !== "fullscreen") strongest.set(code, w.level);
    }
    state.outline.eachLayer((layer) => {
      const level = strongest.get(layer.feature.properties.code);
      layer.setStyle(level ? { color: AREA_COLOUR[level], weight: 5, fill: true, fillColor: AREA_COLOUR[level],
                               fillOpacity: level === "fullscreen" ? 0.35 : 0.2 }
                           : { color: "#263238", weight: 2, fill: false });
      if (layer.getElement()) layer.getElement().dataset.warned = level || "";
    });
    root.dataset.warnedAreas = String(strongest.size);
  }

  function legend() {
    const control = L.control({ position: "bottomleft" });
    control.onAdd = () => {
      const dot = (colour, cls, border) => el("i", { class: cls || "", style: `background: ${colour};` +
                                                                          (border ? ` border: 3px solid ${border};` : "") });
      return el("div", { class: "legend", id: "legend" },
        el("strong", { text: gettext("Keterangan") }), el("br"),
        ...[1, 2, 3, 4].map((p) => [dot(S.PRIORITY_COLOURS[p]), `P${p} `]), el("br"),
        dot("#fff", "", "#1565c0"), gettext("diteruskan"), " ", dot("#fff", "", "#6a1b9a"), gettext("petugas di lokasi"), el("br"),
        dot(AREA_COLOUR.fullscreen, "area"), gettext("wilayah peringatan layar penuh"), el("br"),
        dot(AREA_COLOUR.ticker, "area"), gettext("wilayah info gempa / waspada"), el("br"),
        dot("#2e7d32", "route"), gettext("jalur evakuasi"), " ", dot("#66bb6a", "", "#1b5e20"), gettext("tempat evakuasi"));
    };
    control.addTo(state.map);
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
    const [categories, agencies, kecamatan] = await Promise.all([S.api("GET", "/categories"), S.api("GET", "/agencies"),
      S.api("GET", "/regions/kecamatan")]);
    state.kecamatan = kecamatan;
    state.categories = Object.fromEntries(categories.map((c) => [c.code, c.name]));
    state.agencies = Object.fromEntries(agencies.map((a) => [a.code, a]));
    S.live("incident.,dispatch.,warning.,presence.,roster.,hazard.", (m) => {
      if (m.topic === "live.resync") { refresh.incidents(); refresh.warnings(); refresh.presence(); loadKpis(); }
      else if (m.topic.startsWith("incident.") || m.topic.startsWith("dispatch.")) refresh.incidents();
      else if (m.topic.startsWith("warning.") || m.topic.startsWith("hazard.")) refresh.warnings();
      else refresh.presence();
    }, (up) => { document.getElementById("live-state").className = up ? "live on" : "live off"; });
    try {
      state.map = await SiagaMap.cityMap(document.getElementById("map"), { wall: true, tiles: root.dataset.tiles || null });
      state.outline = L.geoJSON(await S.api("GET", "/regions/geojson?level=kecamatan"), {
        style: { color: "#263238", weight: 2, fill: false }, interactive: false }).addTo(state.map);
      legend();
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
