// Writes `@purpose(name: X)` into the first operation of a document, replacing one there.
import { parse } from "graphql";

export function withPurpose(text, purpose) {
  let document;
  try {
    document = parse(text);
  } catch {
    return null; // the editor holds no valid document yet: leave it alone
  }
  const operation = document.definitions.find((d) => d.kind === "OperationDefinition");
  if (!operation) return null;
  const existing = (operation.directives || []).find((d) => d.name.value === "purpose");
  const directive = purpose ? `@purpose(name: ${purpose})` : "";
  if (existing) {
    const { start, end } = existing.loc;
    const after = purpose ? text.slice(end) : text.slice(end).replace(/^\s+/, " ");
    return text.slice(0, start) + directive + after;
  }
  if (!purpose) return text;
  const start = operation.loc.start;
  if (text[start] === "{") {
    return `${text.slice(0, start)}query ${directive} ${text.slice(start)}`;
  }
  const anchor = operation.variableDefinitions?.length
    ? text.indexOf(")", operation.variableDefinitions.at(-1).loc.end) + 1
    : operation.name
      ? operation.name.loc.end
      : start + operation.operation.length;
  return `${text.slice(0, anchor)} ${directive}${text.slice(anchor)}`;
}
