// Where each value of a response sits in its text as GraphiQL shows it
// (JSON.stringify(result, null, 2)), so that masked and denied values can be marked in place.

export function layout(value) {
  const spans = new Map();
  let out = "";
  function write(v, path, indent) {
    const start = out.length;
    const pad = " ".repeat(indent + 2);
    if (v === null || typeof v !== "object") {
      out += JSON.stringify(v);
    } else if (Array.isArray(v)) {
      if (v.length === 0) out += "[]";
      else {
        out += "[\n";
        v.forEach((item, i) => {
          out += pad;
          write(item === undefined ? null : item, [...path, i], indent + 2);
          out += (i < v.length - 1 ? "," : "") + "\n";
        });
        out += " ".repeat(indent) + "]";
      }
    } else {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined);
      if (keys.length === 0) out += "{}";
      else {
        out += "{\n";
        keys.forEach((key, i) => {
          out += `${pad}${JSON.stringify(key)}: `;
          write(v[key], [...path, key], indent + 2);
          out += (i < keys.length - 1 ? "," : "") + "\n";
        });
        out += " ".repeat(indent) + "}";
      }
    }
    spans.set(path.join("\u0000"), [start, out.length]);
  }
  write(value, [], 0);
  return { text: out, spans };
}

// Every concrete path an entry of extensions.disclosure.paths stands for.
export function concretePaths(entry) {
  const star = entry.path.indexOf("*");
  if (star < 0) return [entry.path];
  return (entry.rows || []).map((row) => entry.path.map((part, i) => (i === star ? row : part)));
}

export function label(entry) {
  if (entry.disclosure === "MASKED") return `MASKED${entry.mask ? ` ${entry.mask}` : ""}`;
  return `DENIED${entry.reason ? ` ${entry.reason}` : ""}`;
}

// The marks to make: [start, end, entry] for every masked or denied value of the response.
export function marksOf(text) {
  let result;
  try {
    result = JSON.parse(text);
  } catch {
    return [];
  }
  const entries = result?.extensions?.disclosure?.paths;
  if (!Array.isArray(entries) || !result.data) return [];
  const { text: laid, spans } = layout(result);
  if (laid !== text) return []; // not the layout we know: mark nothing rather than wrongly
  const marks = [];
  for (const entry of entries) {
    for (const path of concretePaths(entry)) {
      const span = spans.get(["data", ...path].join("\u0000"));
      if (span) marks.push([span[0], span[1], entry]);
    }
  }
  return marks;
}
