// GraphiQL for fieldgate: the schema of the signed-in principal, a purpose picker, explain,
// and the result's masked and denied values marked in place.
import React, { useCallback, useEffect, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { useEditorContext } from "@graphiql/react";
import { explorerPlugin } from "@graphiql/plugin-explorer";
import { buildClientSchema, getIntrospectionQuery } from "graphql";
import "graphiql/graphiql.css";
import "@graphiql/plugin-explorer/dist/style.css";
import "./console.css";
import { authHeaders, mountBar, onChange, principal, token } from "./session.js";
import { withPurpose } from "./purpose.js";
import { label, marksOf } from "./marks.js";

const DEFAULT_QUERY = `# The support agent's query of the README: masked phones, denied bank cards.
query Support @purpose(name: CUSTOMER_SUPPORT) {
  orders(first: 2) {
    edges {
      node {
        orderNo
        buyerPhone
        bankCard
      }
    }
  }
}
`;

async function fetcher(params, options) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      ...(options?.headers || {}),
      ...authHeaders(),
    },
    body: JSON.stringify(params),
  });
  return response.json();
}

async function loadSchema() {
  const answer = await fetcher({ query: getIntrospectionQuery(), operationName: "IntrospectionQuery" });
  if (!answer.data) throw new Error(answer.errors?.[0]?.message || "no schema");
  return buildClientSchema(answer.data);
}

// Marks every masked or denied value in the response editor, each with its reason.
function DisclosureMarks() {
  const { responseEditor } = useEditorContext({ nonNull: true });
  useEffect(() => {
    if (!responseEditor) return undefined;
    let made = [];
    const mark = () => {
      made.forEach((m) => m.clear());
      const doc = responseEditor.getDoc();
      made = marksOf(responseEditor.getValue()).map(([start, end, entry]) =>
        doc.markText(doc.posFromIndex(start), doc.posFromIndex(end), {
          className: entry.disclosure === "MASKED" ? "fg-masked" : "fg-denied",
          title: `${label(entry)} · ${entry.field}`,
          attributes: { "data-fg": label(entry) },
        }),
      );
    };
    responseEditor.on("change", mark);
    mark();
    return () => responseEditor.off("change", mark);
  }, [responseEditor]);
  return null;
}

function FieldgatePanel({ who }) {
  const { queryEditor } = useEditorContext({ nonNull: true });
  const [explained, setExplained] = useState(null);
  const [problem, setProblem] = useState(null);
  const choose = (purpose) => {
    if (!queryEditor) return;
    const changed = withPurpose(queryEditor.getValue(), purpose);
    if (changed === null) setProblem("the editor holds no operation to declare a purpose on");
    else {
      setProblem(null);
      queryEditor.setValue(changed);
    }
  };
  const explain = async () => {
    const response = await fetch("/console/api/explain", {
      method: "POST",
      headers: { "content-type": "application/json", ...authHeaders() },
      body: JSON.stringify({ query: queryEditor?.getValue() || "" }),
    });
    const payload = await response.json();
    if (!response.ok) {
      setExplained(null);
      setProblem(payload.errors[0].message);
    } else {
      setProblem(null);
      setExplained(payload);
    }
  };
  return (
    <div className="fg-panel">
      <p>
        Signed in as <b>{who.kind === "anonymous" ? "anonymous" : who.name}</b>{" "}
        {who.roles.length ? `(${who.roles.join(", ")})` : ""}. The docs, explorer and editor show
        this principal's view of the schema.
      </p>
      <label>
        Purpose{" "}
        <select
          data-testid="purpose-picker"
          value=""
          onChange={(event) => choose(event.target.value)}
          disabled={!who.purposes.length}
        >
          <option value="">{who.purposes.length ? "declare a purpose…" : "none to declare"}</option>
          {who.purposes.map((p) => (
            <option key={p.name} value={p.name} title={p.description}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      {who.defaultPurpose ? <p className="fg-note">Without one: {who.defaultPurpose}.</p> : null}
      <dl className="fg-purposes">
        {who.purposes.map((p) => (
          <React.Fragment key={p.name}>
            <dt>{p.name}</dt>
            <dd>
              {p.description}
              {p.consent ? " (needs the data subject's consent)" : ""}
            </dd>
          </React.Fragment>
        ))}
      </dl>
      <button type="button" className="fg-explain" onClick={explain}>
        Explain this operation
      </button>
      {problem ? <p className="fg-error">{problem}</p> : null}
      {explained ? (
        <table className="fg-explained" data-testid="explain-table">
          <thead>
            <tr>
              <th>field</th>
              <th>level</th>
              <th>other rows</th>
              <th>own</th>
              <th>assigned</th>
              <th>mask</th>
              <th>reason</th>
              <th>rule</th>
            </tr>
          </thead>
          <tbody>
            {explained.rows.map((r) => (
              <tr key={r.field}>
                <td>{r.field}</td>
                <td>{r.level}</td>
                <td className={`fg-cell ${r.other.toLowerCase()}`}>{r.other}</td>
                <td>{r.own || ""}</td>
                <td>{r.assigned || ""}</td>
                <td>{r.mask || ""}</td>
                <td>{r.reason || ""}</td>
                <td>{r.rule}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

const ShieldIcon = () => (
  <svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" strokeWidth="1.5">
    <path d="M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z" />
  </svg>
);

function App() {
  const [who, setWho] = useState(null);
  const [schema, setSchema] = useState(null);
  const [error, setError] = useState(null);
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(async () => {
    setSchema(null);
    try {
      const [found, built] = await Promise.all([principal(), loadSchema()]);
      setWho(found);
      setSchema(built);
      setError(null);
    } catch (e) {
      setError(e.message);
    }
    setGeneration((g) => g + 1);
  }, []);
  useEffect(() => {
    reload();
    return onChange(reload); // a new principal: read the schema again
  }, [reload]);
  const explorer = useMemo(() => explorerPlugin(), []);
  const fieldgate = useMemo(
    () => ({
      title: "fieldgate",
      icon: ShieldIcon,
      content: () => (who ? <FieldgatePanel who={who} /> : null),
    }),
    [who],
  );
  if (error) return <p className="fg-error">The schema could not be read: {error}</p>;
  if (!schema || !who) return <p className="fg-loading">Reading this principal's schema…</p>;
  return (
    <GraphiQL
      key={`${token() || "anonymous"}-${generation}`}
      fetcher={fetcher}
      schema={schema}
      defaultQuery={DEFAULT_QUERY}
      plugins={[fieldgate, explorer]}
      visiblePlugin={fieldgate}
      shouldPersistHeaders={false}
    >
      <GraphiQL.Logo>fieldgate</GraphiQL.Logo>
      <GraphiQL.Footer>
        <DisclosureMarks />
        <div className="fg-legend">
          <span className="fg-masked">masked</span> <span className="fg-denied">denied</span>{" "}
          values are marked in place (hover for the reason)
        </div>
      </GraphiQL.Footer>
    </GraphiQL>
  );
}

mountBar(document.getElementById("bar"), "graphiql");
createRoot(document.getElementById("graphiql")).render(<App />);
