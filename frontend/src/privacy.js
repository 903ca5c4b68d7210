// The privacy centre: a signed-in user's consents, access log, export and account closure,
// every action through the GraphQL API (and so its audit trail).
import "./console.css";
import { el, gql, mountBar, onChange, principal, setToken } from "./session.js";

const main = document.getElementById("main");
const PAGE = 10;
const CONSENTABLE = ["MARKETING", "PERSONALISATION", "RESEARCH", "IDENTITY_VERIFICATION", "CROSS_BORDER"];

function ageOf(birthDate) {
  if (!birthDate) return null;
  const born = new Date(birthDate);
  const now = new Date();
  let age = now.getFullYear() - born.getFullYear();
  if (now < new Date(now.getFullYear(), born.getMonth(), born.getDate())) age -= 1;
  return age;
}

function problemOf(answer) {
  return answer.errors ? answer.errors.map((e) => e.message).join("; ") : null;
}

async function consentsSection(me) {
  const section = el("section", { "data-testid": "consents" }, el("h2", {}, "Consents"));
  const note = el("p", { class: "fg-error", role: "alert" });
  const minor = (ageOf(me.birthDate) ?? 99) < 18;
  const guardian = el("input", { name: "guardian", placeholder: "guardian's name" });
  if (minor) {
    section.append(
      el("p", { class: "fg-note" }, "You are under 18: a consent counts only with your guardian's name."),
      el("label", {}, "Guardian ", guardian),
    );
  }
  const list = el("ul", { class: "fg-consents" });
  section.append(list, note);
  async function refresh() {
    const answer = await gql("{ myConsents { purpose grantedAt withdrawnAt guardianConsent active } }");
    note.textContent = problemOf(answer) || "";
    const active = new Map();
    for (const c of answer.data?.myConsents || []) if (c.active) active.set(c.purpose, c);
    list.replaceChildren(
      ...CONSENTABLE.map((purpose) => {
        const held = active.get(purpose);
        const toggle = el("input", {
          type: "checkbox",
          name: purpose,
          "data-testid": `consent-${purpose}`,
          ...(held ? { checked: "" } : {}),
        });
        toggle.addEventListener("change", async () => {
          toggle.disabled = true;
          const result = toggle.checked
            ? await gql(
                "mutation Grant($p: String!, $g: String) { grantConsent(purpose: $p, guardianName: $g) { purpose } }",
                { p: purpose, g: minor ? guardian.value || null : null },
              )
            : await gql("mutation Withdraw($p: String!) { withdrawConsent(purpose: $p) { purpose } }", { p: purpose });
          note.textContent = problemOf(result) || "";
          await refresh();
        });
        const since = held ? ` since ${held.grantedAt.slice(0, 10)}${held.guardianConsent ? " (guardian)" : ""}` : "";
        return el("li", {}, el("label", {}, toggle, ` ${purpose}`), el("small", {}, since));
      }),
    );
  }
  await refresh();
  return section;
}

async function accessLogSection() {
  const section = el("section", { "data-testid": "access-log" }, el("h2", {}, "Who accessed your data"));
  const table = el("table", { class: "fg-log" });
  const more = el("button", { type: "button" }, "Older…");
  const cursors = [null];
  let page = 0;
  const back = el("button", { type: "button" }, "Newer…");
  async function show() {
    const answer = await gql(
      `query Log($first: Int, $after: String) { myAccessLog(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { at kind principalKind principalRoles partnerId purpose coordinate outcome } } } }`,
      { first: PAGE, after: cursors[page] },
    );
    const log = answer.data?.myAccessLog;
    table.replaceChildren(
      el("thead", {}, el("tr", {}, ...["when", "who", "purpose", "field", "outcome"].map((h) => el("th", {}, h)))),
      el(
        "tbody",
        {},
        ...(log?.edges || []).map(({ node }) =>
          el(
            "tr",
            {},
            el("td", {}, (node.at || "").replace("T", " ").slice(0, 19)),
            el("td", {}, node.partnerId ? `partner ${node.partnerId}` : `${node.principalKind} (${(node.principalRoles || []).join(", ")})`),
            el("td", {}, node.purpose || ""),
            el("td", {}, node.coordinate || ""),
            el("td", {}, node.outcome || ""),
          ),
        ),
      ),
    );
    more.disabled = !log?.pageInfo.hasNextPage;
    back.disabled = page === 0;
    cursors[page + 1] = log?.pageInfo.endCursor;
    summary.textContent = log ? `${log.totalCount} accesses, newest first` : problemOf(answer);
  }
  const summary = el("p", { class: "fg-note" });
  more.addEventListener("click", () => {
    page += 1;
    show();
  });
  back.addEventListener("click", () => {
    page -= 1;
    show();
  });
  section.append(summary, table, el("div", {}, back, more));
  await show();
  return section;
}

function exportSection() {
  const note = el("p", { class: "fg-note" });
  // the export needs the password in the operation itself (step-up), not only the token
  const password = el("input", { type: "password", name: "export-password", placeholder: "your password" });
  const button = el(
    "button",
    {
      type: "button",
      "data-testid": "export",
      onclick: async () => {
        if (!password.value) {
          note.textContent = "Enter your password to export your data.";
          return;
        }
        const answer = await gql("mutation Export($p: String!) { exportMyData(password: $p) }", { p: password.value });
        if (answer.errors) {
          note.textContent = problemOf(answer);
          return;
        }
        const blob = new Blob([JSON.stringify(answer.data.exportMyData, null, 2)], { type: "application/json" });
        el("a", { href: URL.createObjectURL(blob), download: "my-data.json" }).click();
        note.textContent = "Your data was exported (my-data.json).";
      },
    },
    "Download my data",
  );
  return el("section", {}, el("h2", {}, "Your data"), password, button, note);
}

function closeSection(me) {
  const password = el("input", { type: "password", name: "confirm-password", placeholder: "your password" });
  const note = el("p", { class: "fg-error", role: "alert", "data-testid": "close-note" });
  const form = el(
    "form",
    {
      "data-testid": "close-account",
      onsubmit: async (event) => {
        event.preventDefault();
        if (!password.value) {
          note.textContent = "Enter your password to close your account.";
          return;
        }
        // re-authentication: the gateway checks the password with the closure itself
        const answer = await gql("mutation Close($p: String!) { closeMyAccount(password: $p) }", { p: password.value });
        const refused = (answer.errors || []).some((e) => e.extensions?.code === "REAUTHENTICATION_REQUIRED");
        if (refused) {
          note.textContent = "That password is not right; nothing was closed.";
          return;
        }
        if (answer.errors) {
          note.textContent = problemOf(answer);
          return;
        }
        closed = true;
        setToken(null); // every token of the account is revoked now
      },
    },
    el("p", {}, "Closing erases your personal data; orders are kept de-identified for accounting. Every token is revoked."),
    password,
    el("button", { type: "submit", class: "fg-danger" }, "Close my account"),
    note,
  );
  return el("section", {}, el("h2", {}, "Close your account"), form);
}

let closed = false;

async function render() {
  if (closed) {
    main.replaceChildren(
      el("p", { class: "fg-note", "data-testid": "closed" }, "Your account is closed and your personal data erased."),
    );
    return;
  }
  const who = await principal();
  if (who.kind !== "user") {
    main.replaceChildren(el("p", { class: "fg-note" }, "The privacy centre is for users: sign in with your account."));
    return;
  }
  const answer = await gql("{ me { id username birthDate } }");
  const me = answer.data?.me;
  if (!me) {
    main.replaceChildren(el("p", { class: "fg-error" }, problemOf(answer) || "no account"));
    return;
  }
  main.replaceChildren(
    el("h1", {}, `Privacy centre of ${me.username}`),
    await consentsSection(me),
    await accessLogSection(),
    exportSection(),
    closeSection(me),
  );
}

mountBar(document.getElementById("bar"), "privacy");
onChange(render);
render();
