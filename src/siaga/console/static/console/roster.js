/* The month's roster: who is on which shift, coverage problems, editing for supervisors, CSV in and out. */
(function () {
  "use strict";
  const S = window.Siaga;
  const { el } = S;
  const gettext = S.t;
  const root = document.getElementById("roster");
  const canEdit = root.dataset.edit === "1";
  const state = { month: root.dataset.month, data: null, staff: [], undo: null };
  const ROLE = { operator: gettext("Operator"), supervisor: gettext("Supervisor") };
  const monthName = new Intl.DateTimeFormat(S.LANG === "en" ? "en-GB" : "id-ID", { timeZone: "UTC", month: "long", year: "numeric" });

  function shiftMonth(delta) {
    const [y, m] = state.month.split("-").map(Number);
    const d = new Date(Date.UTC(y, m - 1 + delta, 1));
    return d.toISOString().slice(0, 7);
  }

  async function load() {
    try {
      state.data = await S.api("GET", "/roster?month=" + state.month);
    } catch (error) {
      S.toast(error.message, "error");
      return;
    }
    history.replaceState(null, "", "?month=" + state.month);
    document.getElementById("month").textContent = monthName.format(new Date(state.month + "-01T00:00:00Z"));
    document.getElementById("export").href = "/api/v1/roster/export?month=" + state.month;
    render();
  }

  function render() {
    const { shifts, entries, coverage } = state.data;
    const problems = document.getElementById("problems");
    problems.replaceChildren(
      ...coverage.understaffed.map((r) => el("li", { class: "bad", "data-problem": "understaffed" },
        `${S.day(r.date)} ${S.shiftName(r.shift_name)}: ${r.operators}/${r.min_operators} ${gettext("operator")}, ` +
        `${r.supervisors}/${r.min_supervisors} ${gettext("supervisor")}`)),
      ...coverage.too_long.map((r) => el("li", { class: "bad", "data-problem": "too_long" },
        `${r.name || r.user}: ${r.shifts} ${gettext("shift berturut-turut")} (${r.from} … ${r.to})`)));
    document.getElementById("problem-count").textContent = String(coverage.understaffed.length + coverage.too_long.length);
    const codes = [...new Set(shifts.map((s) => s.code))];
    const names = Object.fromEntries(shifts.map((s) => [s.code, s.name]));
    const dates = [...new Set(shifts.map((s) => s.date))];
    const short = new Set(coverage.understaffed.map((r) => r.date + "/" + r.shift));
    const table = document.getElementById("grid");
    // A live refresh (someone else edited the roster) must not undo a choice being made in a cell's form.
    const chosen = new Map([...table.querySelectorAll("td[data-cell] form.add")].map((form) =>
      [form.closest("td").dataset.cell, { username: form.username.value, role: form.role.value }]));
    table.replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { text: gettext("Tanggal") }), codes.map((c) => el("th", { text: S.shiftName(names[c]) })))),
      el("tbody", {}, dates.map((d) => el("tr", {}, el("th", { text: S.day(d), "data-date": d }), codes.map((c) => {
        const people = entries.filter((e) => e.date === d && e.shift === c);
        return el("td", { class: short.has(d + "/" + c) ? "short" : "", "data-cell": d + "/" + c },
          people.map((p) => el("span", { class: "person " + p.role, title: `${p.username} · ${ROLE[p.role] || p.role}` +
                                          (p.planned ? "" : ` · ${gettext("pengganti")}`) },
            p.name, p.role === "supervisor" ? el("abbr", { title: gettext("Supervisor"), text: " (S)" }) : "",
            canEdit ? el("button", { type: "button", class: "x", title: gettext("hapus"), "aria-label": gettext("hapus"),
                                     onclick: () => remove(p, d, c) }, "×") : null)),
          canEdit ? addForm(d, c, chosen.get(d + "/" + c)) : null);
      })))));
  }

  function addForm(day, code, chosen) {
    const form = el("form", { class: "add", onsubmit: async (e) => {
      e.preventDefault();
      const form = e.target;
      try {
        await S.api("POST", "/roster", { date: day, shift: code, username: form.username.value, role: form.role.value });
        load();
      } catch (error) { S.toast(error.message, "error"); }
    } },
      el("select", { name: "username", "aria-label": gettext("Petugas") },
        state.staff.map((p) => el("option", { value: p.username, text: p.name }))),
      el("select", { name: "role", "aria-label": gettext("Peran"), title: gettext("Peran pada shift ini") },
        el("option", { value: "operator", text: ROLE.operator }), el("option", { value: "supervisor", text: ROLE.supervisor })),
      el("button", { type: "submit", text: "+", title: gettext("Tambahkan ke shift ini"), "aria-label": gettext("Tambahkan ke shift ini") }));
    if (chosen) {  // kept only if that person is still on the list
      if (state.staff.some((p) => p.username === chosen.username)) form.username.value = chosen.username;
      form.role.value = chosen.role;
    }
    return form;
  }

  /* Taking someone off a shift asks first, and can be undone for a while (the entry is added back). */
  async function remove(person, day, code) {
    const shift = `${S.shiftName((state.data.shifts.find((s) => s.code === code) || {}).name)} ${S.day(day)}`;
    if (!window.confirm(`${gettext("Hapus")} ${person.name} (${ROLE[person.role] || person.role}) ${gettext("dari")} ${shift}?`)) return;
    try {
      await S.api("DELETE", "/roster/" + person.id);
    } catch (error) {
      S.toast(error.message, "error");
      return;
    }
    showUndo({ date: day, shift: code, username: person.username, role: person.role },
             `${person.name} ${gettext("dihapus dari")} ${shift}`);
    load();
  }

  function showUndo(entry, message) {
    const bar = document.getElementById("undo");
    clearTimeout(state.undo);
    bar.replaceChildren(el("span", { text: message }), " ",
      el("button", { type: "button", id: "undo-button", onclick: async () => {
        bar.hidden = true;
        try { await S.api("POST", "/roster", entry); load(); } catch (error) { S.toast(error.message, "error"); }
      } }, gettext("Urungkan")));
    bar.hidden = false;
    state.undo = setTimeout(() => { bar.hidden = true; }, 20000);
  }

  async function importCsv(event) {
    event.preventDefault();
    const file = document.getElementById("csv").files[0];
    if (!file) return;
    const response = await fetch("/api/v1/roster/import?month=" + state.month, {
      method: "POST", credentials: "same-origin", body: await file.text(),
      headers: { "Content-Type": "text/csv", "X-CSRFToken": document.cookie.replace(/(?:^|.*;\s*)csrftoken=([^;]*).*$/, "$1") },
    });
    const data = await response.json();
    if (!response.ok) { S.toast(data.error.message, "error"); return; }
    S.toast(`${gettext("Jadwal diimpor")}: +${data.added} −${data.removed}`, "ok");
    load();
  }

  document.getElementById("prev").addEventListener("click", () => { state.month = shiftMonth(-1); load(); });
  document.getElementById("next").addEventListener("click", () => { state.month = shiftMonth(1); load(); });
  if (canEdit) document.getElementById("import").addEventListener("submit", importCsv);
  S.live("roster.", S.debounce(load, 300), () => {});
  (canEdit ? S.api("GET", "/staff") : Promise.resolve([])).then((staff) => {
    state.staff = staff;
    return load();
  }).then(() => { root.dataset.ready = "1"; });
})();
