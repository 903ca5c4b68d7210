// The console's session, shared by its pages: the token (kept for this tab only), who it
// is, signing in with a password or a pasted token, and in development a switcher of the
// demo principals. Every call goes to this same server: nothing is fetched from elsewhere.

const KEY = "fieldgate.console.token";
const listeners = new Set();

export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
  current = null;
  for (const listener of listeners) listener();
}

export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function authHeaders() {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

export async function gql(query, variables, bearer) {
  const headers = { "content-type": "application/json", accept: "application/json" };
  const used = bearer === undefined ? token() : bearer;
  if (used) headers.authorization = `Bearer ${used}`;
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const payload = await response.json();
  if (response.status === 401) payload.unauthenticated = true;
  return payload;
}

let current = null;

export async function principal() {
  if (current) return current;
  const response = await fetch("/console/api/principal", { headers: authHeaders() });
  if (response.status === 401) {
    setToken(null); // expired or revoked: start again as anonymous
    return principal();
  }
  current = await response.json();
  return current;
}

export async function signIn(username, password) {
  const answer = await gql(
    "mutation SignIn($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt } }",
    { u: username, p: password },
    null,
  );
  if (answer.errors) throw new Error(answer.errors[0].message);
  setToken(answer.data.login.token);
  return answer.data.login;
}

export async function signOut() {
  if (token()) await gql("mutation { logout }");
  setToken(null);
}

export async function demoPrincipals() {
  const response = await fetch("/console/api/demo-principals");
  return response.ok ? response.json() : null;
}

export async function demoToken(name) {
  const response = await fetch("/console/api/demo-token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const payload = await response.json();
  if (!response.ok) throw new Error(payload.errors[0].message);
  setToken(payload.token);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}
export { el };

// The bar at the top of every page: where you are, who you are, how to change it.
export async function mountBar(root, page) {
  async function render() {
    const who = await principal();
    root.replaceChildren();
    const nav = el(
      "nav",
      { class: "fg-nav" },
      el("strong", {}, "fieldgate console"),
      ...[
        ["graphiql", "GraphiQL"],
        ["policy", "Policy grid"],
        ["privacy", "Privacy centre"],
      ].map(([name, label]) =>
        el("a", { href: `/console/${name}`, class: name === page ? "active" : "" }, label),
      ),
    );
    const status = el(
      "span",
      { class: "fg-who", "data-testid": "who" },
      who.kind === "anonymous" ? "anonymous" : `${who.name} (${who.kind}: ${who.roles.join(", ")})`,
    );
    const error = el("span", { class: "fg-error", role: "alert" });
    const fail = (e) => (error.textContent = e.message);
    const username = el("input", { name: "username", placeholder: "username", autocomplete: "username" });
    const password = el("input", { name: "password", type: "password", placeholder: "password" });
    const signin = el(
      "form",
      {
        class: "fg-signin",
        onsubmit: (event) => {
          event.preventDefault();
          signIn(username.value, password.value).catch(fail);
        },
      },
      username,
      password,
      el("button", { type: "submit" }, "Sign in"),
    );
    const pasted = el("input", { name: "token", placeholder: "or paste a token" });
    const paste = el(
      "form",
      {
        class: "fg-paste",
        onsubmit: (event) => {
          event.preventDefault();
          setToken(pasted.value.trim().replace(/^Bearer\s+/i, ""));
        },
      },
      pasted,
      el("button", { type: "submit" }, "Use token"),
    );
    const parts = [nav, status];
    if (who.development) {
      const demo = await demoPrincipals();
      if (demo) {
        const select = el(
          "select",
          {
            name: "principal",
            "data-testid": "principal-switcher",
            title: "development only: a token for a demo principal",
            onchange: () => select.value && demoToken(select.value).catch(fail),
          },
          el("option", { value: "" }, "switch principal (development)…"),
        );
        for (const [group, members] of Object.entries(demo)) {
          const optgroup = el("optgroup", { label: group });
          for (const member of members)
            optgroup.append(
              el(
                "option",
                { value: member.name, ...(member.name === who.name ? { selected: "" } : {}) },
                `${member.name} (${member.roles.join(", ")})`,
              ),
            );
          select.append(optgroup);
        }
        parts.push(select);
      }
    }
    if (who.kind === "anonymous") parts.push(signin, paste);
    else parts.push(el("button", { onclick: () => signOut().catch(fail) }, "Sign out"));
    parts.push(error);
    root.append(...parts);
  }
  onChange(render);
  await render();
}
