/* The agency view: this agency's open dispatches, and the next step for each, live. */
(function () {
  "use strict";
  const S = window.Siaga;
  const { el } = S;
  const gettext = S.t;
  const root = document.getElementById("agency");
  const state = { dispatches: [], incidents: {}, selected: null, categories: {} };
  const NEXT = {
    requested: [["acknowledged", "A", gettext("Terima")], ["en_route", "E", gettext("Berangkat")], ["declined", "D", gettext("Tolak")]],
    acknowledged: [["en_route", "E", gettext("Berangkat")], ["on_scene", "S", gettext("Tiba di lokasi")], ["declined", "D", gettext("Tolak")]],
    en_route: [["on_scene", "S", gettext("Tiba di lokasi")]],
    on_scene: [["completed", "C", gettext("Selesai")]],
  };
  const LABEL = S.DISPATCH_STATUS;

  async function load() {
    const [dispatches, incidents] = await Promise.all([
      S.api("GET", "/dispatches?active=true&limit=200"), S.api("GET", "/incidents?open=true&limit=200")]);
    state.dispatches = dispatches;
    state.incidents = Object.fromEntries(incidents.map((i) => [i.id, i]));
    if (!dispatches.some((d) => d.id === state.selected)) state.selected = dispatches.length ? dispatches[0].id : null;
    render();
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

  function render() {
    const list = document.getElementById("dispatches");
    if (!state.dispatches.length) {
      list.replaceChildren(el("li", { class: "muted", text: gettext("Tidak ada penugasan aktif.") }));
      return;
    }
    list.replaceChildren(...state.dispatches.map((d) => {
      const incident = state.incidents[d.incident_id] || {};
      return el("li", { class: "card p" + (incident.priority || 3) + (d.id === state.selected ? " selected" : ""),
                        "data-dispatch": d.id, onclick: () => { state.selected = d.id; render(); } },
        el("div", { class: "row" }, el("strong", { text: incident.ticket || "#" + d.incident_id }),
          el("span", { class: "st " + d.status, text: LABEL[d.status] }),
          el("span", { class: "muted", text: `${gettext("diminta")} ${S.time(d.requested_at)} (${S.ago(d.requested_at)})` })),
        el("p", { text: [state.categories[incident.category] || incident.category, incident.address,
                         incident.description].filter(Boolean).join(" · ") }),
        incident.lat !== undefined && incident.lat !== null
          ? el("p", { class: "muted", text: `${incident.lat.toFixed(5)}, ${incident.lon.toFixed(5)}` }) : null,
        el("div", { class: "actions" }, (NEXT[d.status] || []).map(([status, key, label]) => el("button", {
          type: "button", "data-status": status, onclick: (e) => { e.stopPropagation(); step(d, status); },
        }, el("kbd", { text: key }), " ", label))));
    }));
  }

  document.addEventListener("keydown", (event) => {
    if (S.typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toUpperCase();
    const index = state.dispatches.findIndex((d) => d.id === state.selected);
    if (key === "ARROWDOWN" || key === "ARROWUP") {
      event.preventDefault();
      const next = state.dispatches[Math.min(Math.max(index + (key === "ARROWDOWN" ? 1 : -1), 0), state.dispatches.length - 1)];
      if (next) { state.selected = next.id; render(); }
      return;
    }
    const dispatch = state.dispatches[index];
    if (!dispatch) return;
    const hit = (NEXT[dispatch.status] || []).find(([, k]) => k === key);
    if (hit) { event.preventDefault(); step(dispatch, hit[0]); }
  });

  S.live("dispatch.,incident.", S.debounce(load, 200), (up) => {
    document.getElementById("live-state").className = up ? "live on" : "live off";
  });
  S.api("GET", "/categories").then((rows) => {
    state.categories = Object.fromEntries(rows.map((c) => [c.code, c.name]));
    return load();
  }).then(() => { root.dataset.ready = "1"; });
})();
