/* The agency view: this agency's open dispatches with what a crew needs to find the place (address,
   kelurahan, kecamatan, a map, the description, who reported it and the number to call back), the next
   step for each, live; and today's completed and declined dispatches, searchable. */
(function () {
  "use strict";
  const S = window.Siaga;
  const { el } = S;
  const gettext = S.t;
  const root = document.getElementById("agency");
  const state = { dispatches: [], history: [], incidents: {}, details: {}, selected: null, categories: {},
                  map: null, marker: null };
  const NEXT = {
    requested: [["acknowledged", "A", gettext("Terima")], ["en_route", "E", gettext("Berangkat")], ["declined", "D", gettext("Tolak")]],
    acknowledged: [["en_route", "E", gettext("Berangkat")], ["on_scene", "S", gettext("Tiba di lokasi")], ["declined", "D", gettext("Tolak")]],
    en_route: [["on_scene", "S", gettext("Tiba di lokasi")]],
    on_scene: [["completed", "C", gettext("Selesai")]],
  };
  const LABEL = S.DISPATCH_STATUS;

  // The start of today in Jakarta (WIB is UTC+7 all year), as an instant.
  function startOfToday() {
    const now = new Date(Date.now() + 7 * 3600 * 1000);
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 7 * 3600 * 1000);
  }

  async function load() {
    const today = startOfToday().toISOString();
    const since = encodeURIComponent(new Date(startOfToday().getTime() - 2 * 86400 * 1000).toISOString());
    const [dispatches, past, incidents] = await Promise.all([
      S.api("GET", "/dispatches?active=true&limit=200"),
      S.api("GET", "/dispatches?active=false&limit=200&since=" + encodeURIComponent(today)),
      S.api("GET", "/incidents?limit=200&since=" + since)]);
    state.dispatches = dispatches;
    state.history = past.filter((d) => d.status === "completed" || d.status === "declined");
    state.incidents = Object.fromEntries(incidents.map((i) => [i.id, i]));
    const older = [...dispatches, ...state.history].filter((d) => !state.incidents[d.incident_id]);
    await Promise.all(older.map(async (d) => {  // an incident opened before the look-back: fetch it alone
      state.incidents[d.incident_id] = await S.api("GET", "/incidents/" + d.incident_id);
    }));
    if (!dispatches.some((d) => d.id === state.selected)) state.selected = dispatches.length ? dispatches[0].id : null;
    render();
    renderHistory();
    await showDetail();
  }

  async function step(dispatch, status) {
    let reason = "";
    if (status === "declined") {
      reason = window.prompt(gettext("Alasan menolak penugasan:")) || "";
      if (!reason.trim()) { S.toast(gettext("Penolakan perlu alasan."), "error"); return; }
    }
    try {
      await S.api("POST", `/dispatches/${dispatch.id}/status`, { status, reason });
      S.toast(`${(state.incidents[dispatch.incident_id] || {}).ticket || ""}: ${LABEL[status]}`, "ok");
      load();
    } catch (error) {
      S.toast(error.message, "error");
    }
  }

  function choose(id) {
    state.selected = id;
    render();
    showDetail();
  }

  // the crew reported the dispatch's current step by SMS (from a basic phone)
  const viaSms = (d) => (d.sms_steps || []).length > 0 && d.sms_steps[d.sms_steps.length - 1] === d.status;

  function render() {
    const list = document.getElementById("dispatches");
    document.getElementById("active-count").textContent = String(state.dispatches.length);
    if (!state.dispatches.length) {
      list.replaceChildren(el("li", { class: "muted", text: gettext("Tidak ada penugasan aktif.") }));
      return;
    }
    list.replaceChildren(...state.dispatches.map((d) => {
      const incident = state.incidents[d.incident_id] || {};
      return el("li", { class: "card p" + (incident.priority || 3) + (d.id === state.selected ? " selected" : ""),
                        "data-dispatch": d.id, onclick: () => choose(d.id) },
        el("div", { class: "row" }, el("strong", { text: incident.ticket || "#" + d.incident_id }),
          el("span", { text: state.categories[incident.category] || incident.category || "" }),
          el("span", { class: "st " + d.status, text: LABEL[d.status] }),
          viaSms(d) ? el("span", { class: "via-sms", title: gettext("Dilaporkan petugas lewat SMS"), text: "SMS" }) : null,
          el("span", { class: "muted", text: `${gettext("diminta")} ${S.time(d.requested_at)} (${S.ago(d.requested_at)})` })),
        incident.address ? el("p", { class: "where", text: incident.address }) : null,
        el("div", { class: "actions" }, (NEXT[d.status] || []).map(([status, key, label]) => el("button", {
          type: "button", "data-status": status, onclick: (e) => { e.stopPropagation(); step(d, status); },
        }, el("kbd", { text: key }), " ", label))));
    }));
  }

  async function showDetail() {
    const box = document.getElementById("detail");
    const dispatch = state.dispatches.find((d) => d.id === state.selected);
    if (!dispatch) {
      box.replaceChildren(el("p", { class: "muted", text: gettext("Pilih penugasan untuk melihat rinciannya.") }));
      if (state.marker) { state.marker.remove(); state.marker = null; }
      return;
    }
    const incident = await S.api("GET", "/incidents/" + dispatch.incident_id);
    if (state.selected !== dispatch.id) return;
    const place = [incident.kelurahan, incident.kecamatan].filter(Boolean).join(", ");
    const callback = incident.reporter_phone || incident.callers[0] || "";
    S.fill(box,
      el("h2", { id: "detail-ticket", text: `${incident.ticket} · ${incident.category_name}` },
        " ", el("span", { class: "badge p" + incident.priority, text: "P" + incident.priority })),
      el("dl", { class: "facts", id: "detail-facts" },
        el("dt", { text: gettext("Alamat") }), el("dd", { id: "detail-address", text: incident.address || "—" }),
        el("dt", { text: gettext("Kelurahan") }), el("dd", { id: "detail-kelurahan", text: incident.kelurahan || "—" }),
        el("dt", { text: gettext("Kecamatan") }), el("dd", { id: "detail-kecamatan", text: incident.kecamatan || "—" }),
        el("dt", { text: gettext("Koordinat") }),
        el("dd", { text: incident.lat === null ? gettext("belum ada")
          : `${incident.lat.toFixed(5)}, ${incident.lon.toFixed(5)}` + (incident.location_accuracy_m
            ? ` ±${Math.round(incident.location_accuracy_m)} m` : "") }),
        el("dt", { text: gettext("Pelapor") }), el("dd", { id: "detail-reporter", text: incident.reporter_name || "—" }),
        el("dt", { text: gettext("Nomor balik") }),
        el("dd", { id: "detail-callback" }, callback ? el("a", { href: "tel:" + callback, text: callback }) : "—"),
        el("dt", { text: gettext("Diminta") }), el("dd", { text: S.dateTime(dispatch.requested_at) })),
      incident.description ? el("p", { class: "description", id: "detail-description", text: incident.description }) : null,
      place ? null : el("p", { class: "muted", text: gettext("Lokasi di luar kota atau belum diketahui.") }),
      el("ol", { class: "timeline" }, incident.timeline.slice(-8).map((e) => el("li", {},
        el("time", { text: S.time(e.at) }), " ", e.message))));
    if (!state.map) return;
    if (state.marker) state.marker.remove();
    state.marker = null;
    if (incident.lat !== null) {
      state.marker = SiagaMap.incidentMarker({ ...incident, category: incident.category_name }).addTo(state.map);
      state.map.setView([incident.lat, incident.lon], 16);
    }
  }

  function renderHistory() {
    const query = document.getElementById("history-search").value.trim().toLowerCase();
    const rows = state.history.filter((d) => {
      const incident = state.incidents[d.incident_id] || {};
      const text = [incident.ticket, state.categories[incident.category], incident.address, incident.description,
                    d.reason, LABEL[d.status]].join(" ").toLowerCase();
      return !query || query.split(/\s+/).every((word) => text.includes(word));
    });
    const body = document.querySelector("#history tbody");
    body.replaceChildren(...rows.map((d) => {
      const incident = state.incidents[d.incident_id] || {};
      return el("tr", { "data-dispatch": d.id, class: d.status },
        el("td", { text: incident.ticket || "#" + d.incident_id }),
        el("td", { text: state.categories[incident.category] || incident.category || "" }),
        el("td", { text: incident.address || "" }),
        el("td", { text: LABEL[d.status] + (d.reason ? ` — ${d.reason}` : "") }),
        el("td", { text: S.time(d.completed_at || d.declined_at) }));
    }));
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "muted",
      text: state.history.length ? gettext("Tidak ada yang cocok.") : gettext("Belum ada penugasan selesai hari ini.") })));
  }

  document.addEventListener("keydown", (event) => {
    if (S.typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toUpperCase();
    const index = state.dispatches.findIndex((d) => d.id === state.selected);
    if (key === "ARROWDOWN" || key === "ARROWUP") {
      event.preventDefault();
      const next = state.dispatches[Math.min(Math.max(index + (key === "ARROWDOWN" ? 1 : -1), 0), state.dispatches.length - 1)];
      if (next) choose(next.id);
      return;
    }
    const dispatch = state.dispatches[index];
    if (!dispatch) return;
    const hit = (NEXT[dispatch.status] || []).find(([, k]) => k === key);
    if (hit) { event.preventDefault(); step(dispatch, hit[0]); }
  });

  async function start() {
    document.getElementById("history-search").addEventListener("input", renderHistory);
    S.live("dispatch.,incident.", S.debounce(load, 200), (up) => {
      document.getElementById("live-state").className = up ? "live on" : "live off";
    });
    const rows = await S.api("GET", "/categories");
    state.categories = Object.fromEntries(rows.map((c) => [c.code, c.name]));
    try {
      state.map = await SiagaMap.cityMap(document.getElementById("agency-map"), { tiles: root.dataset.tiles || null });
    } catch (error) {
      S.toast(gettext("Peta tidak dapat dimuat") + ": " + error.message, "error");
    }
    await load();
    root.dataset.ready = "1";
  }

  start();
})();
