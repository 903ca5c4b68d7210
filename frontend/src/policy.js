// The policy grid: the live policy (and a shadow candidate's differences), filtered by
// type, role and purpose; downloadable as CSV.
import "./console.css";
import { authHeaders, el, mountBar, onChange, principal } from "./session.js";

const main = document.getElementById("main");

function options(select, values) {
  select.replaceChildren(el("option", { value: "" }, "all"), ...values.map((v) => el("option", { value: v }, v)));
}

function applyFilters(grid, type, role, purpose) {
  for (const row of grid.querySelectorAll("tbody tr[data-type]")) {
    row.hidden = Boolean(type.value) && row.dataset.type !== type.value;
  }
  for (const cell of grid.querySelectorAll("[data-role]")) {
    const byRole = Boolean(role.value) && cell.dataset.role !== role.value;
    const byPurpose =
      Boolean(purpose.value) && cell.dataset.purpose !== undefined && cell.dataset.purpose !== purpose.value;
    cell.hidden = byRole || byPurpose;
  }
  for (const th of grid.querySelectorAll("thead tr:first-child th[data-role]")) {
    const shown = grid.querySelectorAll(`thead tr:nth-child(2) th[data-role="${th.dataset.role}"]:not([hidden])`);
    th.hidden = shown.length === 0;
    th.colSpan = Math.max(1, shown.length);
  }
}

async function render() {
  const who = await principal();
  main.replaceChildren();
  if (!who.mayReadPolicy) {
    main.append(
      el("p", { class: "fg-note" }, "The policy grid is for those who may read the policy (administrators, the DPO). Sign in as one."),
    );
    return;
  }
  main.append(el("p", { class: "fg-loading" }, "Reading the policy…"));
  const response = await fetch("/console/api/policy-grid", { headers: authHeaders() });
  if (!response.ok) {
    main.replaceChildren(el("p", { class: "fg-error" }, (await response.json()).errors[0].message));
    return;
  }
  const holder = el("div", { class: "fg-grid-holder" });
  holder.innerHTML = await response.text();
  const grid = holder.querySelector(".fg-grid");
  const type = el("select", { name: "type", "data-testid": "filter-type" });
  const role = el("select", { name: "role", "data-testid": "filter-role" });
  const purpose = el("select", { name: "purpose", "data-testid": "filter-purpose" });
  options(type, [...new Set([...grid.querySelectorAll("tbody tr[data-field]")].map((r) => r.dataset.type))]);
  options(role, [...new Set([...grid.querySelectorAll("thead th[data-role]")].map((c) => c.dataset.role))]);
  options(purpose, [...new Set([...grid.querySelectorAll("thead th[data-purpose]")].map((c) => c.dataset.purpose))].sort());
  for (const select of [type, role, purpose]) select.addEventListener("change", () => applyFilters(grid, type, role, purpose));
  const download = el(
    "button",
    {
      type: "button",
      onclick: async () => {
        const csv = await fetch("/console/api/policy-grid?format=csv", { headers: authHeaders() });
        const link = el("a", { href: URL.createObjectURL(await csv.blob()), download: "policy-matrix.csv" });
        link.click();
      },
    },
    "Download CSV",
  );
  const legend = el(
    "p",
    { class: "fg-legend" },
    el("span", { class: "fg-cell full" }, "FULL"),
    " ",
    el("span", { class: "fg-cell masked" }, "MASKED"),
    " ",
    el("span", { class: "fg-cell denied" }, "DENIED"),
    " ",
    el("span", { class: "fg-cell shadow" }, "shadow candidate differs"),
    " · hover a cell for the rule that decided it",
  );
  main.replaceChildren(
    el("div", { class: "fg-filters" }, el("label", {}, "type ", type), el("label", {}, "role ", role), el("label", {}, "purpose ", purpose), download),
    legend,
    holder,
  );
}

mountBar(document.getElementById("bar"), "policy");
onChange(render);
render();
