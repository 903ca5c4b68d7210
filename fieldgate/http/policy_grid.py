"""The policy grid as HTML: the console's page and ``fieldgate policy matrix --format html``.

Fields are rows (grouped by type), roles × purposes are columns; each cell is FULL, MASKED
or DENIED in colour, with the own-row and assigned-row variants and the rule that decided
in its tooltip. A shadow candidate's different answers are outlined and named in the cell.
Rows and columns carry ``data-type``, ``data-role`` and ``data-purpose`` for the filters.
"""

from __future__ import annotations

from html import escape

from fieldgate.authz.matrix import Cell, PolicyMatrix

STYLE = """
.fg-grid { border-collapse: collapse; font: 12px/1.3 system-ui, sans-serif; }
.fg-grid th, .fg-grid td { border: 1px solid #d0d7de; padding: 2px 4px; white-space: nowrap; }
.fg-grid thead th { position: sticky; top: 0; background: #f6f8fa; z-index: 1; }
.fg-grid th.fg-field { text-align: left; position: sticky; left: 0; background: #fff; }
.fg-grid tr.fg-type th { background: #eaeef2; text-align: left; }
.fg-cell.full { background: #dafbe1; color: #116329; }
.fg-cell.masked { background: #fff8c5; color: #7d4e00; }
.fg-cell.denied { background: #ffebe9; color: #a40e26; }
.fg-cell .fg-variant { display: block; font-size: 10px; opacity: .8; }
.fg-cell.shadow { outline: 3px solid #8250df; outline-offset: -3px; }
.fg-cell .fg-candidate { display: block; font-size: 10px; color: #8250df; font-weight: 600; }
.fg-scopes { border-collapse: collapse; font: 12px system-ui, sans-serif; margin: 8px 0 16px; }
.fg-scopes th, .fg-scopes td { border: 1px solid #d0d7de; padding: 2px 6px; }
"""


def _cell(cell: Cell, role: str, purpose: str) -> str:
    row = cell.row
    kind = row.other.value.lower()
    classes = f"fg-cell {kind}" + (" shadow" if cell.candidate else "")
    main = row.other.value + (
        f" {row.strategy.value}" if row.strategy and row.other.value == "MASKED" else ""
    )
    parts = [escape(main)]
    for label, variant in (("own", row.owner), ("assigned", row.assigned)):
        if variant is not None and variant is not row.other:
            parts.append(f'<span class="fg-variant">{label}: {escape(variant.value)}</span>')
    if cell.candidate:
        parts.append(f'<span class="fg-candidate">shadow: {escape(cell.candidate)}</span>')
    title = row.rule + (f" (reason {row.reason.value})" if row.reason else "")
    return (
        f'<td class="{classes}" data-role="{escape(role)}" data-purpose="{escape(purpose)}"'
        f' data-field="{escape(row.field)}" title="{escape(title)}">{"".join(parts)}</td>'
    )


def grid_html(matrix: PolicyMatrix) -> str:
    """The row scopes and the grid, as an HTML fragment (no page around it)."""
    out: list[str] = []
    caption = f"policy {matrix.policy_version}"
    if matrix.candidate_version:
        caption += (
            f" · shadow candidate {matrix.candidate_version}:"
            f" {matrix.differences} cells differ (outlined)"
        )
    out.append(f'<p class="fg-caption">{escape(caption)}</p>')
    scope_types = sorted({t for _, t in matrix.row_scopes})
    out.append('<table class="fg-scopes"><thead><tr><th>row scopes</th>')
    out.extend(f"<th>{escape(t)}</th>" for t in scope_types)
    out.append("</tr></thead><tbody>")
    for role in matrix.roles:
        out.append(f'<tr data-role="{escape(role)}"><th>{escape(role)}</th>')
        for type_name in scope_types:
            scopes = matrix.row_scopes.get((role, type_name), ())
            out.append(f"<td>{escape(', '.join(scopes) or '—')}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    out.append('<table class="fg-grid"><thead><tr><th class="fg-field">field</th>')
    for role in matrix.roles:
        span = sum(1 for c in matrix.columns if c.role == role)
        out.append(f'<th colspan="{span}" data-role="{escape(role)}">{escape(role)}</th>')
    out.append('</tr><tr><th class="fg-field">level</th>')
    for column in matrix.columns:
        out.append(
            f'<th data-role="{escape(column.role)}" data-purpose="{escape(column.label)}">'
            f"{escape(column.label)}</th>"
        )
    out.append("</tr></thead><tbody>")
    current = None
    for coordinate in matrix.fields:
        type_name = coordinate.split(".", 1)[0]
        if type_name != current:
            current = type_name
            out.append(
                f'<tr class="fg-type" data-type="{escape(type_name)}">'
                f'<th colspan="{len(matrix.columns) + 1}">{escape(type_name)}</th></tr>'
            )
        level = matrix.levels[coordinate].value
        out.append(
            f'<tr data-type="{escape(type_name)}" data-field="{escape(coordinate)}">'
            f'<th class="fg-field" title="{escape(level)}">{escape(coordinate)}'
            f" <small>{escape(level)}</small></th>"
        )
        for column in matrix.columns:
            out.append(_cell(matrix.cells[(coordinate, column)], column.role, column.label))
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def grid_page(matrix: PolicyMatrix) -> str:
    """A standalone page (what ``policy matrix --format html`` prints)."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>fieldgate policy {escape(matrix.policy_version)}</title>"
        f"<style>{STYLE}</style></head><body>{grid_html(matrix)}</body></html>\n"
    )
