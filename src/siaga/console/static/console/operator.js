/* The operator console: live call queue, one-key tagging, incident form, dispatch, timeline. Keyboard first. */
(function () {
  "use strict";
  const S = window.Siaga;
  const { el } = S;
  const gettext = S.t;
  const pgettext = (context, text) => (window.pgettext ? window.pgettext(context, text) : text);
  const root = document.getElementById("console");
  const me = Number(root.dataset.userId);
  const canClose = root.dataset.supervisor === "1";
  const state = { calls: new Map(), selected: null, history: null, detail: null, categories: [], agencies: {},
                  incidents: [], incident: null, form: null, map: null, layers: {}, lastTag: null,
                  scope: localStorage.getItem("siaga.queue.scope") || (canClose ? "all" : "mine"),
                  filter: { q: "", tag: "", state: "", minutes: 180 }, kecamatan: [], editFix: null };
  const baseTitle = document.title;
  const ring = { audio: document.getElementById("ring-audio"), muted: root.dataset.ringMuted === "1", playing: false };

  const TAGS = { g: "ghost", p: "prank", i: "information" };
  const TAG_LABEL = { normal: gettext("Normal"), ghost: gettext("Ghost"), prank: gettext("Prank"), information: gettext("Informasi"),
                      abandoned: gettext("Tak terjawab"), test: gettext("Uji coba"), "": gettext("Belum ditandai"),
                      untagged: gettext("Belum ditandai") };
  const STATE_LABEL = { ringing: gettext("Berdering"), active: gettext("Berlangsung"), ended: gettext("Berakhir") };

  // ---------------------------------------------------------------- calls
  async function loadCalls() {
    const since = new Date(Date.now() - 3 * 3600 * 1000).toISOString();
    const rows = await S.api("GET", "/calls?limit=200&since=" + encodeURIComponent(since));
    state.calls = new Map(rows.map((c) => [c.id, c]));
    renderQueue();
    if (!state.selected || !state.calls.has(state.selected)) selectNext();
  }

  // The caller's number as the operator reads it; a withheld one ("anonymous" from the PBX) says so.
  function number(call) {
    if (call.caller) return call.caller;
    if (call.caller_withheld || !call.caller_raw || /^(anonymous|unknown|private|restricted)$/i.test(call.caller_raw)) {
      return gettext("nomor disembunyikan");
    }
    return call.caller_raw;
  }

  // A call is mine once I answered it; a ringing call is nobody's yet. Others' calls are theirs.
  function isMine(call) {
    return call.operator_id === me;
  }

  function isOthers(call) {
    return call.operator_id !== null && call.operator_id !== undefined && call.operator_id !== me;
  }

  // What the operator asked to see: the search (digits of the number), tag, state and age filters.
  function shown(call) {
    const f = state.filter;
    if (f.q) {
      const digits = f.q.replace(/\D/g, "").replace(/^0/, "");
      const number = (call.caller || "") + " " + (call.caller_raw || "");
      if (!(digits ? number.includes(digits) : number.toLowerCase().includes(f.q.toLowerCase()))) return false;
    }
    if (f.tag && (f.tag === "untagged" ? call.outcome !== "" : call.outcome !== f.tag)) return false;
    if (f.state && call.state !== f.state) return false;
    if (f.minutes && call.offered_at && Date.now() - new Date(call.offered_at).getTime() > f.minutes * 60000) return false;
    return true;
  }

  function queueOrder(filtered = true) {
    const calls = [...state.calls.values()].filter((c) => (state.scope === "all" || !isOthers(c))
                                                          && (!filtered || shown(c)));
    const rank = (c) => (c.state === "ringing" ? 0 : c.state === "active" ? 1 : 2);
    // mine first, then ringing ones, then (in "all") the other extensions' calls
    const whose = (c) => (isMine(c) ? 0 : isOthers(c) ? 2 : 1);
    return calls.sort((a, b) => whose(a) - whose(b) || rank(a) - rank(b)
                                || (b.offered_at || "").localeCompare(a.offered_at || ""));
  }

  function pending(call) {
    return call.outcome === "";
  }

  function myUntagged() {
    return [...state.calls.values()].filter((c) => isMine(c) && c.state === "ended" && pending(c));
  }

  /* The current call is always mine: my call going on, else my most recent ended call still without a
     tag, else none. Another extension's call is never chosen for me (one key must not tag it). */
  function selectNext() {
    const order = queueOrder(false);
    const next = order.find((c) => isMine(c) && c.state !== "ended" && pending(c))
      || myUntagged().sort((a, b) => (b.offered_at || "").localeCompare(a.offered_at || ""))[0];
    select(next ? next.id : null);
  }

  function setScope(scope) {
    state.scope = scope;
    localStorage.setItem("siaga.queue.scope", scope);
    document.getElementById("scope-mine").setAttribute("aria-pressed", String(scope === "mine"));
    document.getElementById("scope-all").setAttribute("aria-pressed", String(scope === "all"));
    renderQueue();
  }

  async function select(id) {
    state.selected = id;
    state.history = null;
    state.detail = null;
    renderQueue();
    renderCall();
    const call = state.calls.get(id);
    if (!call) return;
    const [detail, history] = await Promise.all([
      S.api("GET", "/calls/" + id),
      call.caller ? S.api("GET", "/callers/" + encodeURIComponent(call.caller)) : Promise.resolve(null),
    ]);
    if (state.selected !== id) return;
    state.detail = detail;
    state.history = history;
    renderCall();
    showFix();
  }

  function renderQueue() {
    const list = document.getElementById("queue");
    list.replaceChildren(...queueOrder().slice(0, 60).map((c) => el("li", {
      class: ["call", c.state, c.id === state.selected ? "selected" : "", c.caller_blocked ? "blocked" : "",
              c.outcome ? "tagged" : "", isOthers(c) ? "others" : ""].join(" "),
      "data-call": c.id, onclick: () => select(c.id),
    }, el("span", { class: "num", text: number(c) }),
       el("span", { class: "st", text: STATE_LABEL[c.state] || c.state }),
       el("span", { class: "ago", text: S.ago(c.offered_at) }),
       c.outcome ? el("span", { class: "tag t-" + c.outcome, text: TAG_LABEL[c.outcome] || c.outcome }) : null,
       isOthers(c) && c.agent ? el("span", { class: "badge", text: gettext("ekst.") + " " + c.agent }) : null,
       c.caller_blocked ? el("span", { class: "badge red", text: gettext("diblokir") }) : null)));
    document.getElementById("queue-count").textContent = String(
      [...state.calls.values()].filter((c) => c.state !== "ended").length);
    const untagged = myUntagged().length;
    const badge = document.getElementById("untagged-count");
    badge.hidden = untagged === 0;
    badge.textContent = `${gettext("perlu ditandai")}: ${untagged}`;
    updateRing();
  }

  // ---------------------------------------------------------------- ring cue
  /* A call rings for me while it is offered and no other extension has it: the sound (unless I muted it),
     a flashing strip naming the number, and the count in the tab title (seen from another tab too). */
  function ringingForMe() {
    return [...state.calls.values()].filter((c) => c.state === "ringing" && !isOthers(c));
  }

  function updateRing() {
    const ringing = ringingForMe();
    const banner = document.getElementById("ring-banner");
    document.body.classList.toggle("ringing", ringing.length > 0);
    document.title = ringing.length ? `(${ringing.length}) ${gettext("Berdering")} · ${baseTitle}` : baseTitle;
    banner.hidden = ringing.length === 0;
    banner.textContent = ringing.length
      ? `${gettext("Panggilan masuk")}: ${ringing.map(number).join(", ")}`
      : "";
    const toggle = document.getElementById("ring-toggle");
    toggle.setAttribute("aria-pressed", String(!ring.muted));
    toggle.textContent = ring.muted ? gettext("Bunyi mati") : gettext("Bunyi nyala");
    const wanted = ringing.length > 0 && !ring.muted;
    if (wanted && !ring.playing) {
      ring.playing = true;
      ring.audio.currentTime = 0;
      ring.audio.play().then(() => {
        document.getElementById("ring-blocked").hidden = true;
        if (ring.playing) root.dataset.ring = "playing";
      }).catch((error) => {
        if (error.name !== "NotAllowedError") return;  // paused again before it started: the call was answered
        ring.playing = false;  // the browser wants a click on the page before it plays sound
        document.getElementById("ring-blocked").hidden = false;
        root.dataset.ring = "blocked";
      });
    } else if (!wanted && ring.playing) {
      ring.playing = false;
      ring.audio.pause();
    }
    if (!ring.playing) root.dataset.ring = ringing.length ? "silent" : "off";
  }

  async function toggleMute() {
    ring.muted = !ring.muted;
    updateRing();
    try {
      await S.api("PATCH", "/me/preferences", { ring_muted: ring.muted });
    } catch (error) {
      S.toast(error.message, "error");
    }
  }

  function renderCall() {
    const box = document.getElementById("call");
    const call = state.calls.get(state.selected);
    if (!call) {
      box.replaceChildren(el("p", { class: "muted", text: gettext("Tidak ada panggilan dipilih.") }));
      return;
    }
    const h = state.history;
    const fix = latestFix();
    S.fill(box,
      el("div", { class: "call-head" },
        el("strong", { class: "big", id: "call-number", text: number(call) }),
        el("span", { class: "st " + call.state, text: STATE_LABEL[call.state] || call.state }),
        call.outcome ? el("span", { class: "tag t-" + call.outcome, id: "call-tag",
                                    text: TAG_LABEL[call.outcome] }) : null,
        call.caller_blocked ? el("span", { class: "badge red", text: gettext("nomor sedang diblokir") }) : null),
      el("dl", { class: "facts" },
        el("dt", { text: gettext("Masuk") }), el("dd", { text: S.time(call.offered_at) }),
        el("dt", { text: gettext("Dijawab") }), el("dd", { text: S.time(call.answered_at) }),
        el("dt", { text: gettext("Jalur") }), el("dd", { text: call.line || "—" }),
        el("dt", { text: gettext("Lokasi AML") }),
        el("dd", { id: "aml-fix", text: fix ? `${fix.lat.toFixed(5)}, ${fix.lon.toFixed(5)} ±${Math.round(fix.radius_m || 0)} m`
                                             : gettext("belum ada") })),
      h ? el("div", { class: "history" },
        el("strong", { text: gettext("Riwayat nomor") + ": " }),
        S.count(h.total_calls, pgettext("satu", "panggilan"), pgettext("banyak", "panggilan")),
        ...Object.entries(h.by_outcome).map(([k, v]) => el("span", { class: "tag t-" + k, text: `${TAG_LABEL[k] || k} ${v}` })),
        el("span", { id: "strikes", class: h.blocked ? "badge red" : "badge",
                     text: `${gettext("pelanggaran")}: ${h.strikes} · ${gettext("berikutnya")}: ${S.stage(h.next_stage)}` }),
        canClose && (h.blocked || h.strikes) ? el("button", { type: "button", id: "lift", onclick: () => lift(h.caller) },
                                                 gettext("Cabut sanksi")) : null)
        : null,
      el("div", { class: "actions" },
        button("N", gettext("Normal → kejadian"), () => tag("normal")),
        button("G", gettext("Ghost"), () => tag("ghost")),
        button("P", gettext("Prank"), () => tag("prank")),
        button("I", gettext("Informasi"), () => tag("information"))));
  }

  function button(key, label, action) {
    return el("button", { type: "button", class: "key-button", onclick: action, "data-key": key },
      el("kbd", { text: key }), " ", label);
  }

  function latestFix() {
    const fixes = (state.detail && state.detail.locations || []).filter((f) => f.has_fix);
    return fixes.length ? fixes[fixes.length - 1] : null;
  }

  function showFix() {
    if (!state.map) return;
    if (state.layers.fix) state.layers.fix.remove();
    const fix = latestFix();
    if (!fix) return;
    state.layers.fix = L.layerGroup([
      L.circle([fix.lat, fix.lon], { radius: fix.radius_m || 50, color: "#1565c0", weight: 2, fillOpacity: 0.15 }),
      L.circleMarker([fix.lat, fix.lon], { radius: 5, color: "#1565c0", fillOpacity: 1 }),
    ]).addTo(state.map);
    state.map.setView([fix.lat, fix.lon], 15);
  }

  async function lift(number) {
    const reason = window.prompt(gettext("Alasan mencabut peringatan/blokir nomor ini:")) || "";
    if (!reason.trim()) return;
    try {
      await S.api("POST", `/callers/${encodeURIComponent(number)}/lift`, { reason });
      S.toast(`${number}: ${gettext("sanksi dicabut")}`, "ok");
      select(state.selected);
    } catch (error) {
      S.toast(error.message, "error");
    }
  }

  async function tag(outcome) {
    const call = state.calls.get(state.selected);
    if (!call) return;
    if (isOthers(call) && call.state !== "ended" && !canClose) {
      S.toast(gettext("Panggilan ini sedang ditangani ekstensi lain."), "error");
      return;
    }
    if (outcome === "normal") {
      if (!call.incident_id) openForm(call);
      else openIncident(call.incident_id);
      return;
    }
    try {
      const updated = await S.api("POST", `/calls/${call.id}/tag`, { outcome });
      state.calls.set(updated.id, { ...call, ...updated });
      S.toast(`${updated.caller || gettext("disembunyikan")}: ${TAG_LABEL[outcome]}`, "ok");
      selectNext();
    } catch (error) {
      S.toast(error.message, "error");
    }
  }

  // ---------------------------------------------------------------- incident form
  function openForm(call) {
    const fix = latestFix();
    state.form = { call, lat: fix ? fix.lat : null, lon: fix ? fix.lon : null,
                   accuracy: fix ? fix.radius_m : null, source: fix ? "aml" : "" };
    const box = document.getElementById("form");
    box.hidden = false;
    box.replaceChildren(el("form", { id: "incident-form", onsubmit: (e) => { e.preventDefault(); submit(); } },
      el("h2", { text: gettext("Kejadian baru") }),
      el("label", {}, gettext("Kategori"), " ",
        el("input", { id: "f-category", autocomplete: "off", placeholder: gettext("ketik untuk mencari…"),
                      oninput: suggest, onkeydown: categoryKeys, "aria-controls": "f-suggestions" })),
      el("ul", { id: "f-suggestions", class: "suggestions", role: "listbox" }),
      el("div", { class: "row" },
        el("label", {}, gettext("Prioritas"), " ", el("select", { id: "f-priority", required: true },
          el("option", { value: "", text: gettext("— pilih kategori —") }),
          [1, 2, 3, 4].map((p) => el("option", { value: p, text: "P" + p })))),
        el("span", { id: "f-location", class: "muted" })),
      el("label", {}, gettext("Uraian"), " ", el("textarea", { id: "f-description", rows: 2 })),
      el("label", {}, gettext("Alamat / patokan"), " ", el("input", { id: "f-address" })),
      el("fieldset", { id: "f-agencies" }, el("legend", { text: gettext("Instansi yang diteruskan") })),
      el("div", { class: "actions" },
        el("button", { type: "submit", class: "primary", id: "f-submit" }, el("kbd", { text: "Ctrl+Enter" }), " ",
           gettext("Buat & teruskan")),
        el("button", { type: "button", onclick: closeForm }, el("kbd", { text: "Esc" }), " ", gettext("Batal")))));
    renderLocation();
    document.querySelector(".work-pane").classList.add("composing");
    document.getElementById("f-category").focus();
    box.scrollIntoView({ block: "start" });
  }

  function closeForm() {
    state.form = null;
    const box = document.getElementById("form");
    box.hidden = true;
    box.replaceChildren();
    document.querySelector(".work-pane").classList.remove("composing");
  }

  let matches = [];
  let highlighted = 0;
  function suggest() {
    const query = document.getElementById("f-category").value.trim().toLowerCase();
    matches = state.categories.filter((c) => !query || c.name.toLowerCase().includes(query)
                                           || c.code.includes(query) || (c.name_en || "").toLowerCase().includes(query));
    highlighted = 0;
    renderSuggestions();
  }

  function renderSuggestions() {
    document.getElementById("f-suggestions").replaceChildren(...matches.slice(0, 8).map((c, i) => el("li", {
      role: "option", class: i === highlighted ? "hl" : "", text: `${c.name} (P${c.default_priority})`,
      onmousedown: (e) => { e.preventDefault(); pickCategory(c); },
    })));
  }

  function categoryKeys(event) {
    if (event.key === "ArrowDown") { highlighted = Math.min(highlighted + 1, matches.length - 1); renderSuggestions(); event.preventDefault(); }
    else if (event.key === "ArrowUp") { highlighted = Math.max(highlighted - 1, 0); renderSuggestions(); event.preventDefault(); }
    else if (event.key === "Enter" && matches.length) { event.preventDefault(); pickCategory(matches[highlighted]); }
  }

  function pickCategory(category) {
    state.form.category = category;
    document.getElementById("f-category").value = category.name;
    document.getElementById("f-suggestions").replaceChildren();
    document.getElementById("f-priority").value = String(category.default_priority);
    const box = document.getElementById("f-agencies");
    box.replaceChildren(el("legend", { text: gettext("Instansi yang diteruskan") }),
      ...Object.values(state.agencies).map((a) => el("label", { class: "check" },
        el("input", { type: "checkbox", name: "agency", value: a.code,
                      checked: category.default_agencies.includes(a.code) }), " ", a.short_name)));
    document.getElementById("f-description").focus();
    document.getElementById("f-submit").scrollIntoView({ block: "nearest" });
  }

  async function renderLocation() {
    const span = document.getElementById("f-location");
    if (!span || !state.form) return;
    const f = state.form;
    if (f.lat === null) { span.textContent = gettext("Lokasi: klik peta, atau L untuk lokasi AML"); return; }
    span.textContent = `${gettext("Lokasi")}: ${f.lat.toFixed(5)}, ${f.lon.toFixed(5)}` +
      (f.accuracy ? ` ±${Math.round(f.accuracy)} m (AML)` : "");
    const where = await S.api("GET", `/regions/resolve?lat=${f.lat}&lon=${f.lon}`);
    if (state.form !== f) return;
    span.textContent += where.inside_city ? ` — ${where.kelurahan}, ${where.kecamatan}` : ` — ${gettext("di luar kota")}`;
    span.dataset.kelurahan = where.kelurahan || "";
  }

  async function submit() {
    const f = state.form;
    if (!f || !f.category) { S.toast(gettext("Pilih kategori dulu."), "error"); document.getElementById("f-category").focus(); return; }
    if (f.busy) return;  // Ctrl+Enter twice: one incident (client_ref makes a retry harmless too)
    const body = {
      category: f.category.code, priority: Number(document.getElementById("f-priority").value),
      description: document.getElementById("f-description").value, address: document.getElementById("f-address").value,
      lat: f.lat, lon: f.lon, location_accuracy_m: f.accuracy, location_source: f.source,
      call_id: f.call ? f.call.id : null, client_ref: f.ref || (f.ref = crypto.randomUUID()),
    };
    const agencies = [...document.querySelectorAll("#f-agencies input:checked")].map((i) => i.value);
    f.busy = true;
    try {
      const incident = await S.api("POST", "/incidents", body);
      for (const code of agencies) await S.api("POST", `/incidents/${incident.id}/dispatches`, { agency: code });
      closeForm();
      const names = agencies.map((code) => (state.agencies[code] || {}).short_name || code);
      S.toast(`${incident.ticket}: ${gettext("dibuat dan diteruskan ke")} ${names.join(", ") || "—"}`, "ok");
      await openIncident(incident.id);
      loadIncidents();
      selectNext();
    } catch (error) {
      f.busy = false;
      S.toast(error.message, "error");
    }
  }

  // ---------------------------------------------------------------- incidents
  function incidentQuery() {
    const params = new URLSearchParams({ limit: "50" });
    const value = (id) => (document.getElementById(id) || {}).value || "";
    const status = value("i-status");
    if (status === "") params.set("open", "true");
    else if (status !== "all") params.set("status", status);
    for (const [id, name] of [["i-search", "q"], ["i-category", "category"], ["i-kecamatan", "kecamatan_id"]]) {
      if (value(id).trim()) params.set(name, value(id).trim());
    }
    return params.toString();
  }

  async function loadIncidents() {
    const query = incidentQuery();
    const rows = await S.api("GET", "/incidents?" + query);
    if (query !== incidentQuery()) return;  // the filter changed while this page was loading
    state.incidents = rows;
    renderIncidents();
  }

  function renderIncidents() {
    const byCode = Object.fromEntries(state.categories.map((c) => [c.code, c.name]));
    const list = document.getElementById("incidents");
    list.replaceChildren(...state.incidents.map((i) => el("li", {
      class: "p" + i.priority + (state.incident && state.incident.id === i.id ? " selected" : ""),
      "data-incident": i.id, onclick: () => openIncident(i.id),
    }, el("strong", { text: i.ticket }), " ", byCode[i.category] || i.category, " ",
       el("span", { class: "st " + i.status, text: S.INCIDENT_STATUS[i.status] || i.status }), " ",
       el("span", { class: "muted", text: i.agencies.map((c) => (state.agencies[c] || {}).short_name || c).join(", ") }))));
    if (!state.incidents.length) list.append(el("li", { class: "muted empty", text: gettext("Tidak ada kejadian yang cocok.") }));
    if (!state.map) return;
    if (state.layers.incidents) state.layers.incidents.remove();
    state.layers.incidents = L.layerGroup(state.incidents.filter((i) => i.lat !== null)
      .map((i) => SiagaMap.incidentMarker({ ...i, category: byCode[i.category] }))).addTo(state.map);
  }

  const STEP_LABEL = {
    verified: gettext("Verifikasi"), dispatched: gettext("Diteruskan"), on_scene: gettext("Petugas di lokasi"),
    resolved: gettext("Tertangani"), closed: gettext("Tutup"), cancelled: gettext("Batalkan"),
    duplicate: gettext("Duplikat dari…"),
  };
  const MANAGER_STEPS = ["closed", "cancelled", "duplicate"];
  const EDITABLE = ["new", "verified", "dispatched", "on_scene"];

  async function act(promise, done) {
    try {
      await promise;
      if (done) S.toast(done, "ok");
      await openIncident(state.incident.id);
      loadIncidents();
    } catch (error) {
      S.toast(error.message, "error");
    }
  }

  async function step(incident, status) {
    const body = { status };
    if (status === "cancelled") {
      body.note = (window.prompt(gettext("Alasan membatalkan kejadian ini:")) || "").trim();
      if (!body.note) return;
    }
    if (status === "duplicate") {
      const ticket = (window.prompt(gettext("Nomor tiket kejadian yang sama (mis. CLG-2026-000123):")) || "").trim();
      if (!ticket) return;
      const hits = (await S.api("GET", "/incidents?limit=5&q=" + encodeURIComponent(ticket)))
        .filter((i) => i.ticket.toLowerCase() === ticket.toLowerCase() && i.id !== incident.id);
      if (!hits.length) { S.toast(`${ticket}: ${gettext("tiket tidak ditemukan")}`, "error"); return; }
      body.duplicate_of = hits[0].id;
    }
    act(S.api("POST", `/incidents/${incident.id}/status`, body), null);
  }

  function withdraw(dispatch) {
    const name = (state.agencies[dispatch.agency] || {}).short_name || dispatch.agency;
    const reason = (window.prompt(`${gettext("Alasan menarik penugasan")} ${name}:`) || "").trim();
    if (!reason) return;
    act(S.api("POST", `/dispatches/${dispatch.id}/withdraw`, { reason }), `${name}: ${gettext("penugasan ditarik")}`);
  }

  function place(incident) {
    const where = [incident.kelurahan, incident.kecamatan].filter(Boolean).join(", ");
    if (incident.lat === null) return where || gettext("belum ada");
    return `${incident.lat.toFixed(5)}, ${incident.lon.toFixed(5)}` + (where ? ` — ${where}` : ` — ${gettext("di luar kota")}`);
  }

  function editForm(incident) {
    const save = async (event) => {
      event.preventDefault();
      const form = event.target;
      const changes = {};
      const category = form.category.value;
      if (category !== incident.category) changes.category = category;
      if (Number(form.priority.value) !== incident.priority) changes.priority = Number(form.priority.value);
      for (const name of ["address", "description"]) {
        if (form[name].value.trim() !== (incident[name] || "")) changes[name] = form[name].value.trim();
      }
      if (state.editFix) Object.assign(changes, state.editFix);
      if (!Object.keys(changes).length) { S.toast(gettext("Tidak ada perubahan."), "info"); return; }
      document.getElementById("amend").open = false;  // saved: the next render shows a fresh form
      act(S.api("PATCH", `/incidents/${incident.id}`, changes), `${incident.ticket}: ${gettext("data kejadian diperbarui")}`);
    };
    return el("details", { class: "amend", id: "amend" }, el("summary", { text: gettext("Ubah data kejadian") }),
      el("form", { id: "edit-form", onsubmit: save },
        el("div", { class: "row" },
          el("label", {}, gettext("Kategori"), " ", el("select", { name: "category", id: "e-category" },
            state.categories.map((c) => el("option", { value: c.code, text: c.name, selected: c.code === incident.category })))),
          el("label", {}, gettext("Prioritas"), " ", el("select", { name: "priority", id: "e-priority" },
            [1, 2, 3, 4].map((p) => el("option", { value: p, text: "P" + p, selected: p === incident.priority }))))),
        el("label", {}, gettext("Alamat / patokan"), " ", el("input", { name: "address", id: "e-address", value: incident.address || "" })),
        el("label", {}, gettext("Uraian"), " ", el("textarea", { name: "description", id: "e-description", rows: 2 },
          incident.description || "")),
        el("p", { class: "muted small", id: "e-location",
                  text: gettext("Lokasi baru: klik peta, atau Alt+L untuk lokasi AML panggilan.") }),
        el("button", { type: "submit", id: "e-save" }, gettext("Simpan perubahan"))));
  }

  function moveTo(lat, lon, accuracy, source) {
    state.editFix = { lat, lon, location_accuracy_m: accuracy, location_source: source };
    const line = document.getElementById("e-location");
    if (line) line.textContent = `${gettext("Lokasi baru")}: ${lat.toFixed(5)}, ${lon.toFixed(5)} (${source === "aml" ? "AML" : gettext("peta")})`;
  }

  function dispatchRow(incident, d) {
    const active = ["requested", "acknowledged", "en_route", "on_scene"].includes(d.status);
    return el("tr", { "data-agency": d.agency },
      el("td", { text: (state.agencies[d.agency] || {}).short_name || d.agency }),
      el("td", { class: "st " + d.status, "data-status": d.status, text: (S.DISPATCH_STATUS[d.status] || d.status)
        + ((d.sms_steps || []).slice(-1)[0] === d.status ? " · SMS" : "") }),
      el("td", { text: S.time(d.requested_at) }), el("td", { text: S.time(d.on_scene_at) }),
      el("td", {}, active && EDITABLE.includes(incident.status)
        ? el("button", { type: "button", class: "link withdraw", onclick: () => withdraw(d) }, gettext("Tarik"))
        : d.reason ? el("span", { class: "muted small", text: d.reason }) : null));
  }

  async function openIncident(id) {
    const incident = await S.api("GET", "/incidents/" + id);
    // A live refresh of the same incident keeps what the operator is typing: an open edit and a note.
    const same = state.incident && state.incident.id === id;
    const keptEdit = same && amending() ? document.getElementById("amend") : null;
    const kept = same ? [...document.querySelectorAll("#incident input[id], #incident select[id]")]
      .map((field) => [field.id, field.value]) : [];
    const focused = same && document.activeElement ? document.activeElement.id : "";
    state.incident = incident;
    const box = document.getElementById("incident");
    box.hidden = false;
    const steps = incident.next_steps.filter((s) => s !== "dispatched" && (canClose || !MANAGER_STEPS.includes(s)));
    const sent = new Set(incident.dispatches.filter((d) => ["requested", "acknowledged", "en_route", "on_scene"]
      .includes(d.status)).map((d) => d.agency));
    const more = Object.values(state.agencies).filter((a) => !sent.has(a.code));
    const editable = EDITABLE.includes(incident.status);
    const reporter = [incident.reporter_name, incident.reporter_phone].filter(Boolean).join(" · ");
    S.fill(box,
      el("h2", { id: "incident-ticket", "data-status": incident.status,
                 text: `${incident.ticket} · ${S.INCIDENT_STATUS[incident.status] || incident.status}` }),
      el("dl", { class: "facts", id: "incident-facts" },
        el("dt", { text: gettext("Kategori") }),
        el("dd", { id: "i-fact-category" }, incident.category_name, " ", el("span", { class: "badge p" + incident.priority, text: "P" + incident.priority })),
        el("dt", { text: gettext("Lokasi") }), el("dd", { id: "i-fact-place", text: place(incident) }),
        el("dt", { text: gettext("Alamat") }), el("dd", { id: "i-fact-address", text: incident.address || "—" }),
        el("dt", { text: gettext("Penelepon") }), el("dd", { id: "i-fact-caller", text: incident.callers.join(", ") || "—" }),
        reporter ? el("dt", { text: gettext("Pelapor") }) : null, reporter ? el("dd", { text: reporter }) : null,
        el("dt", { text: gettext("Dibuat") }), el("dd", { text: S.dateTime(incident.created_at) })),
      incident.description ? el("p", { class: "description", text: incident.description }) : null,
      el("table", { class: "dispatches" }, incident.dispatches.map((d) => dispatchRow(incident, d))),
      editable && more.length ? el("form", { class: "row add-agency", id: "add-agency", onsubmit: (e) => {
        e.preventDefault();
        const code = e.target.agency.value;
        act(S.api("POST", `/incidents/${id}/dispatches`, { agency: code }),
            `${incident.ticket}: ${gettext("diteruskan ke")} ${(state.agencies[code] || {}).short_name || code}`);
      } }, el("select", { name: "agency", id: "add-agency-code", "aria-label": gettext("Tambah instansi") },
             more.map((a) => el("option", { value: a.code, text: a.short_name }))),
         el("button", { type: "submit", id: "add-agency-go" }, gettext("Teruskan juga"))) : null,
      el("div", { class: "actions", id: "incident-steps" }, steps.map((status) => el("button", {
        type: "button", "data-step": status, class: status === "cancelled" ? "danger" : "",
        onclick: () => step(incident, status) }, STEP_LABEL[status] || status))),
      editable ? editForm(incident) : null,
      el("form", { class: "row note-form", id: "note-form", onsubmit: (e) => {
        e.preventDefault();
        const text = e.target.text.value.trim();
        e.target.text.value = "";
        if (text) act(S.api("POST", `/incidents/${id}/notes`, { text }), gettext("Catatan ditambahkan"));
      } }, el("input", { name: "text", id: "note-text", maxlength: 4000, placeholder: gettext("Catatan untuk lini waktu…"),
                         "aria-label": gettext("Catatan") }),
         el("button", { type: "submit", id: "note-add" }, gettext("Tambah catatan"))),
      el("ol", { class: "timeline" }, incident.timeline.map((e) => el("li", {},
        el("time", { text: S.time(e.at) }), " ", e.message, " ", el("span", { class: "muted", text: e.actor })))));
    const fresh = document.getElementById("amend");
    if (keptEdit && fresh) fresh.replaceWith(keptEdit);
    else if (fresh) state.editFix = null;
    for (const [fieldId, value] of kept) {
      const field = document.getElementById(fieldId);
      if (field && !keptEdit?.contains(field) && (field.tagName !== "SELECT" || [...field.options].some((o) => o.value === value))) {
        field.value = value;
      }
    }
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  }

  // ---------------------------------------------------------------- shift, attendance, handover
  async function loadShift() {
    const now = await S.api("GET", "/shifts/current");
    const box = document.getElementById("shift");
    if (!now.shift) { box.replaceChildren(el("span", { class: "muted", text: gettext("Belum ada definisi shift.") })); return; }
    const mine = now.my_attendance;
    const parts = [el("strong", { text: `${gettext("Shift")} ${S.shiftName(now.shift.name)} · ${S.day(now.shift.date)}` }),
                   el("span", { class: "muted", text: `${S.clock(now.shift.starts_at)}–${S.clock(now.shift.ends_at)} WIB` })];
    if (mine) {
      parts.push(el("span", { class: mine.late_minutes ? "badge red" : "badge",
                              text: `${gettext("bertugas sejak")} ${S.clock(mine.started_at)}` +
                                    (mine.late_minutes ? ` (${gettext("terlambat")} ${S.minutes(mine.late_minutes)})` : "") }));
      parts.push(el("button", { type: "button", id: "end-shift", onclick: () => attendance("end") }, gettext("Akhiri shift")));
    } else {
      parts.push(el("button", { type: "button", id: "start-shift", class: "primary", onclick: () => attendance("start") },
                    gettext("Mulai shift")));
    }
    if (canClose && now.pending_handover) {
      const h = now.pending_handover;
      parts.push(el("div", { class: "handover", id: "pending-handover" },
        el("strong", { text: `${gettext("Serah terima dari")} ${h.from_shift} (${h.written_by}): ` }), h.note, " ",
        el("span", { class: "muted", text: `${h.open_items.incidents.length} ${gettext("kejadian terbuka")}, ` +
                                            `${h.open_items.dispatches.length} ${gettext("penugasan aktif")}` }), " ",
        el("button", { type: "button", id: "ack-handover", onclick: async () => {
          try { await S.api("POST", `/handovers/${h.id}/acknowledge`); loadShift(); }
          catch (error) { S.toast(error.message, "error"); }
        } }, gettext("Terima serah terima"))));
    }
    if (canClose) {
      parts.push(el("details", { class: "handover-write" }, el("summary", { text: gettext("Tulis serah terima shift ini") }),
        el("form", { onsubmit: async (e) => {
          e.preventDefault();
          try {
            await S.api("POST", "/handovers", { note: e.target.note.value });
            S.toast(gettext("Serah terima disimpan; kejadian dan penugasan terbuka terlampir."), "ok");
          } catch (error) { S.toast(error.message, "error"); }
        } }, el("textarea", { name: "note", id: "handover-note", rows: 3 }),
          el("button", { type: "submit", id: "handover-save" }, gettext("Simpan serah terima")))));
    }
    box.replaceChildren(...parts);
  }

  async function attendance(which) {
    try { await S.api("POST", "/shifts/" + which); loadShift(); } catch (error) { S.toast(error.message, "error"); }
  }

  // ---------------------------------------------------------------- keyboard
  function amlToForm() {
    const fix = latestFix();
    if (!fix) { S.toast(gettext("Belum ada lokasi AML untuk panggilan ini."), "error"); return; }
    if (state.form) {
      Object.assign(state.form, { lat: fix.lat, lon: fix.lon, accuracy: fix.radius_m, source: "aml" });
      renderLocation();
    } else if (amending()) {
      moveTo(fix.lat, fix.lon, fix.radius_m, "aml");
    }
  }

  function amending() {
    const details = document.getElementById("amend");
    return Boolean(details && details.open);
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.form) { closeForm(); return; }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && state.form) { event.preventDefault(); submit(); return; }
    // Alt+L works while typing (in "Uraian" too); plain L when not in a field.
    if (event.altKey && !event.ctrlKey && event.code === "KeyL" && (state.form || amending())) {
      event.preventDefault();
      amlToForm();
      return;
    }
    if (S.typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    if (key in TAGS) { event.preventDefault(); tag(TAGS[key]); }
    else if (key === "n") { event.preventDefault(); tag("normal"); }
    else if (key === "l" && (state.form || amending())) { event.preventDefault(); amlToForm(); }
    else if (key === "m") { event.preventDefault(); toggleMute(); }
    else if (key === "/") { event.preventDefault(); document.getElementById("q-search").focus(); }
    else if (key === "arrowdown" || key === "j" || key === "arrowup" || key === "k") {
      event.preventDefault();
      const order = queueOrder();
      const index = order.findIndex((c) => c.id === state.selected);
      const next = order[Math.min(Math.max(index + (key === "arrowdown" || key === "j" ? 1 : -1), 0), order.length - 1)];
      if (next) select(next.id);
    }
  });

  function wireFilters() {
    const q = document.getElementById("q-search");
    const read = () => {
      state.filter = { q: q.value.trim(), tag: document.getElementById("q-tag").value,
                       state: document.getElementById("q-state").value,
                       minutes: Number(document.getElementById("q-time").value) };
      renderQueue();
    };
    q.addEventListener("input", read);
    q.addEventListener("keydown", (e) => { if (e.key === "Escape") { q.value = ""; read(); q.blur(); } });
    for (const id of ["q-tag", "q-state", "q-time"]) document.getElementById(id).addEventListener("change", read);
    const category = document.getElementById("i-category");
    category.append(...state.categories.map((c) => el("option", { value: c.code, text: c.name })));
    document.getElementById("i-kecamatan").append(...state.kecamatan.map((k) => el("option", { value: k.id, text: k.name })));
    const reload = S.debounce(loadIncidents, 250);
    document.getElementById("i-search").addEventListener("input", reload);
    for (const id of ["i-category", "i-kecamatan", "i-status"]) document.getElementById(id).addEventListener("change", loadIncidents);
    document.getElementById("ring-toggle").addEventListener("click", toggleMute);
    document.getElementById("ring-blocked").addEventListener("click", () => { ring.playing = false; updateRing(); });
  }

  // ---------------------------------------------------------------- live
  const refreshIncidents = S.debounce(() => {
    loadIncidents();
    if (state.incident) openIncident(state.incident.id);
  }, 250);

  function onLive(message) {
    if (message.topic === "call.updated") {
      const old = state.calls.get(message.data.id) || {};
      state.calls.set(message.data.id, { ...old, ...message.data });
      renderQueue();
      if (message.data.id === state.selected) renderCall();
      // A call just answered by me becomes the current call unless I am busy with one of mine; another
      // extension's call never takes the place of mine.
      const current = state.calls.get(state.selected);
      const busy = current && isMine(current) && current.state !== "ended" && pending(current);
      const justMine = message.data.operator_id === me && message.data.state !== "ended";
      if (!state.form && !busy && (!current || !pending(current) || justMine)) selectNext();
    } else if (message.topic === "call.location" && message.data.call_id === state.selected) {
      select(state.selected);
    } else if (message.topic.startsWith("incident.") || message.topic.startsWith("dispatch.")) {
      refreshIncidents();
    } else if (message.topic.startsWith("presence.")) {
      loadShift();
    } else if (message.topic === "live.resync") {  // events may have been missed: reload what is shown
      loadCalls();
      refreshIncidents();
      loadShift();
    }
  }

  async function start() {
    const [categories, agencies, kecamatan] = await Promise.all([
      S.api("GET", "/categories"), S.api("GET", "/agencies"), S.api("GET", "/regions/kecamatan")]);
    state.categories = categories.filter((c) => c.active);
    state.kecamatan = kecamatan;
    state.agencies = Object.fromEntries(agencies.filter((a) => a.active).map((a) => [a.code, a]));
    S.live("call.,caller.,incident.,dispatch.,presence.", onLive, (up) => {
      document.getElementById("live-state").className = up ? "live on" : "live off";
    });
    document.getElementById("scope-mine").addEventListener("click", () => setScope("mine"));
    document.getElementById("scope-all").addEventListener("click", () => setScope("all"));
    wireFilters();
    setScope(state.scope);
    await Promise.all([loadCalls(), loadIncidents(), loadShift()]);
    try {
      state.map = await SiagaMap.cityMap(document.getElementById("map"), { tiles: root.dataset.tiles || null });
      state.map.on("click", (e) => {
        if (!state.form && amending()) { moveTo(e.latlng.lat, e.latlng.lng, null, "map"); return; }
        if (!state.form) return;
        Object.assign(state.form, { lat: e.latlng.lat, lon: e.latlng.lng, accuracy: null, source: "map" });
        if (state.layers.pick) state.layers.pick.remove();
        state.layers.pick = L.marker(e.latlng).addTo(state.map);
        renderLocation();
      });
      renderIncidents();
      showFix();
    } catch (error) {
      S.toast(gettext("Peta tidak dapat dimuat") + ": " + error.message, "error");
    }
    setInterval(renderQueue, 5000);  // keeps "x sec ago" fresh
    root.dataset.ready = "1";
  }

  start();
})();
