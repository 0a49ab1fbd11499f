"""results/report.html: the whole report in ONE self-contained page.

Open it from disk: no server, no script, no network. Styles are inline, every plot is
embedded as a base64 PNG, and a Content-Security-Policy (``default-src 'none'``) makes the
browser refuse anything the page might try to fetch, so a stray external reference shows up
as an error instead of a silent dependency. Every piece of text that comes from the data
(model names, labels, checkpoints, citations, errors) is HTML-escaped.

Sections: findings (findings.md's text), the headline comparison with its delta plot, the
significance-aware ranking, selected-layer scores with CIs and coverage plus the heat map,
every layer of every task with its plot, model cards, dataset cards, failed cells.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.cards import DatasetCard, ModelCard, label_of, what_it_is
from bench.cell import Cell, canonical_order
from bench.headline import ADJUSTMENT, COVERAGE_FLAG
from bench.models import side
from bench.ranking import RULE, Ranking, entry_rows, pair_rows, scope_description
from bench.tables import (
    Table,
    ci_text,
    coverage_text,
    fmt,
    layer_table,
    selected_result,
    selected_tasks,
    summary_cell,
)

__all__ = ["markdown_to_html", "render_html"]

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { --fg: #1d1d1f; --muted: #5f6368; --line: #d9d9de; --zebra: #f6f7f9; --accent: #1a5fb4; --warn: #b35806; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg);
       margin: 0; background: #fff; }
header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; border-bottom: 1px solid var(--line); }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 34px 0 8px; padding-top: 6px; border-top: 2px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 6px; }
p, li { max-width: 100ch; }
.muted { color: var(--muted); }
nav { margin: 10px 0 12px; display: flex; flex-wrap: wrap; gap: 6px 14px; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
code { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; background: var(--zebra); padding: 0 3px; }
.scroll { overflow-x: auto; margin: 8px 0 14px; }
table { border-collapse: collapse; font-size: 12.5px; }
caption { caption-side: top; text-align: left; color: var(--muted); padding: 2px 0 6px; }
th, td { border: 1px solid var(--line); padding: 4px 7px; vertical-align: top; text-align: left; }
th { background: #eef0f4; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: var(--zebra); }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.warn { color: var(--warn); font-weight: bold; }
.ahead-ctx { color: #1b7837; font-weight: 600; }
.ahead-static { color: var(--warn); font-weight: 600; }
.floor { color: var(--muted); font-style: italic; }
figure { margin: 10px 0 18px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 12.5px; }
details { margin: 6px 0 12px; }
summary { cursor: pointer; color: var(--accent); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; background: #fff; }
.card h3 { margin: 0 0 6px; font-size: 15px; word-break: break-all; }
.card dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0; font-size: 12.5px; }
.card dt { color: var(--muted); }
.card dd { margin: 0; word-break: break-word; }
.tag { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11.5px; background: #e8eefc; }
.tag.stand-in { background: #fdebd3; }
.tag.floor { background: #ececec; }
footer { margin-top: 30px; padding-bottom: 30px; color: var(--muted); border-top: 1px solid var(--line); }
"""

_NUMERIC = re.compile(r"^[-+<]?\s?[-+]?\d")


def esc(x: Any) -> str:
    """HTML-escape anything (quotes included)."""
    return html.escape(str(x), quote=True)


def _inline(text: str) -> str:
    """Escape, then the Markdown inline marks findings.md uses: **bold**, `code`, *emphasis*."""
    out = esc(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"(?<![\w*])\*(?!\s)([^*]+?)\*(?![\w*])", r"<em>\1</em>", out)


def markdown_to_html(text: str, *, skip_title: bool = True) -> str:
    """The Markdown subset the generated files use: headings, bullets, paragraphs, inline marks.

    Everything is escaped first, so data inside the text cannot inject markup.

    >>> markdown_to_html("# T\\n\\n## Sub\\n\\n- **a** <b>\\n- `c`\\n\\ntext")
    '<h3>Sub</h3>\\n<ul>\\n<li><strong>a</strong> &lt;b&gt;</li>\\n<li><code>c</code></li>\\n</ul>\\n<p>text</p>'
    """
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            out.append("<p>" + _inline(" ".join(para)) + "</p>")
            para.clear()
        if items:
            out.append("<ul>\n" + "\n".join(f"<li>{_inline(i)}</li>" for i in items) + "\n</ul>")
            items.clear()

    for line in text.splitlines():
        s = line.rstrip()
        if s.startswith("# "):
            flush()
            if not skip_title:
                out.append(f"<h2>{_inline(s[2:])}</h2>")
        elif s.startswith("#"):
            flush()
            level = min(6, len(s) - len(s.lstrip("#")) + 1)
            out.append(f"<h{level}>{_inline(s.lstrip('#').strip())}</h{level}>")
        elif s.startswith("- "):
            if para:
                flush()
            items.append(s[2:])
        elif not s.strip():
            flush()
        elif items:
            items[-1] += " " + s.strip()
        else:
            para.append(s.strip())
    flush()
    return "\n".join(out)


class Html(str):
    """Text that is already HTML (built here from escaped parts): table cells keep it as is."""


def _cell_html(text: str) -> str:
    out = text if isinstance(text, Html) else esc(text)
    return out.replace("⚠", f'<span class="warn" title="scored on under {COVERAGE_FLAG:.0%} of the items '
                             'attempted">⚠</span>')


def table_html(header: Sequence[str], rows: Sequence[Sequence[str]], *, caption: str = "",
               row_classes: Sequence[str] | None = None) -> str:
    """An escaped HTML table in a horizontally scrolling box; number-like cells right-aligned."""
    parts = ['<div class="scroll"><table>']
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead><tbody>")
    for k, row in enumerate(rows):
        cls = f' class="{esc(row_classes[k])}"' if row_classes and row_classes[k] else ""
        tds = "".join(f'<td class="num">{_cell_html(c)}</td>' if _NUMERIC.match(str(c)) else f"<td>{_cell_html(c)}</td>"
                      for c in row)
        parts.append(f"<tr{cls}>{tds}</tr>")
    parts.append("</tbody></table></div>")
    return "\n".join(parts)


def _two_lines(main: str, sub: str) -> Html:
    """A cell with a second, smaller line (both escaped)."""
    return Html(esc(main) + (f'<br><small class="muted">{esc(sub)}</small>' if sub else ""))


def _table(t: Table, *, caption: str = "") -> str:
    return table_html(t.header, t.rows, caption=caption)


def image_html(path: Path, alt: str, caption: str = "") -> str:
    """A PNG embedded as base64 (the page stays one file)."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">{cap}</figure>'


def _anchor(prefix: str, name: str) -> str:
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower()


# -- sections --------------------------------------------------------------------------------------
def _p(p: Any, n_boot: int) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return f"< {1 / n_boot:g}" if p < 1 / n_boot else f"{p:.3f}"


def _headline(rows: Sequence[dict[str, Any]], cells: Sequence[Cell], n_boot: int) -> str:
    by = {(c.embedder, c.task): c for c in cells if c.ok}

    def side_cells(r: dict[str, Any], prefix: str) -> list[str]:
        m = r.get(f"{prefix}_model")
        if not m:
            return ["–", "–"]
        c = by.get((m, r["task"]))
        what = what_it_is(label_of(m, c.embedder_info), side(c.embedder_info)) if c else ""
        res = selected_result(c) if c else None
        return [_two_lines(f"{m} ({r[f'{prefix}_layer']})", what),
                _two_lines(f"{fmt(r[f'{prefix}_value'])} {ci_text(r[f'{prefix}_ci_low'], r[f'{prefix}_ci_high'])}",
                           coverage_text(res) if res else "")]

    header = ["task", "static (layer)", "value [95% CI]", "contextual (layer)", "value [95% CI]", "paired n",
              "ctx − static [95% CI]", f"p ({ADJUSTMENT})", "verdict"]
    body, classes, skipped = [], [], []
    for r in rows:
        diff = float("nan") if r.get("diff") is None else float(r["diff"])
        has = not math.isnan(diff)
        if not has and not r.get("static_model") and not r.get("contextual_model"):
            skipped.append(f"{r['task']} ({r['note']})")
            continue
        body.append([_two_lines(r["task"], f"{r['kind']}, {r['metric']}")] + side_cells(r, "static")
                    + side_cells(r, "contextual")
                    + [_two_lines(str(r["n_paired"]) if r["n_paired"] is not None else "–", r["unit"] or ""),
                       f"{diff:+.3f} {ci_text(r['diff_ci_low'], r['diff_ci_high'], 3)}" if has else "–",
                       _two_lines(_p(r["p_adjusted"], n_boot), f"raw {_p(r['p'], n_boot)}"),
                       r["verdict"] or r["note"] or ""])
        classes.append("ahead-ctx" if r["verdict"] == "contextual ahead" else
                       "ahead-static" if r["verdict"] == "static ahead" else "")
    out = table_html(header, body, row_classes=classes) if body else "<p>No task compared the two sides.</p>"
    if skipped:
        out += f'<p class="muted">Not compared: {esc("; ".join(skipped))}.</p>'
    return out


def _ranking(rankings: Sequence[Ranking]) -> str:
    out = [f"<p>{esc(RULE)}</p>"]
    if not rankings:
        out.append("<p>Nothing to rank: no task with a selected layer and per-item scores.</p>")
    for r in rankings:
        out.append(f'<h3 id="{_anchor("rank", r.scope)}">{esc(r.scope)}</h3>')
        out.append(f'<p class="muted">{esc(scope_description(r))}</p>')
        if r.entries:
            header, rows = entry_rows(r)
            out.append(table_html(header, rows, row_classes=["floor" if e.floor else "" for e in r.entries]))
        if r.pairs:
            header, rows = pair_rows(r)
            out.append(f"<details><summary>{len(r.pairs)} pairwise differences ({esc(r.scope)})</summary>"
                       + table_html(header, rows) + "</details>")
    return "\n".join(out)


def _scores(cells: Sequence[Cell]) -> str:
    embs, _ = canonical_order(list(cells))
    tasks, descriptive = selected_tasks(cells)
    by = {(c.embedder, c.task): c for c in cells}
    kind = {c.task: c.task_meta.get("kind", "") for c in cells if c.task_meta}
    info: dict[str, dict[str, Any]] = {}
    for c in sorted(cells, key=lambda c: not c.ok):
        info.setdefault(c.embedder, c.embedder_info)
    out = ["<p>The score of the layer each task selected WITHOUT its test items, on the held-out items, with its "
           "95% CI and the layer in brackets; then coverage: items scored / items in the split, "
           "<em>(cap k)</em> when k items were sampled under a cap, "
           f'<span class="warn">⚠</span> when under {COVERAGE_FLAG:.0%} of the items attempted were scored. '
           "† marks a fallback protocol not comparable with the rest of its column.</p>"]
    kinds = list(dict.fromkeys(kind.get(t, "") for t in tasks))
    for k in kinds:
        ktasks = [t for t in tasks if kind.get(t, "") == k]
        rows = []
        for e in embs:
            rows.append([e, what_it_is(label_of(e, info[e]), side(info[e]))]
                        + [summary_cell(by.get((e, t))) for t in ktasks])
        out.append(f"<h3>{esc(k or 'tasks without a finished cell')}</h3>")
        out.append(table_html(["model", "what it is"] + ktasks, rows))
    if descriptive:
        out.append(f'<p class="muted">Descriptive tasks (no layer is selected; see every layer below): '
                   f"{esc(', '.join(descriptive))}.</p>")
    return "\n".join(out)


def _layers(cells: Sequence[Cell], plots: dict[str, Path]) -> str:
    ok = [c for c in cells if c.ok]
    _, tasks = canonical_order(ok)
    out = []
    for t in tasks:
        meta = next((c.task_meta for c in ok if c.task == t and c.task_meta), {})
        out.append(f'<h3 id="{_anchor("task", t)}">{esc(t)}</h3>')
        desc = f"{meta.get('description', '')} Metric: {meta.get('metric', '')}."
        out.append(f'<p class="muted">{esc(desc)}</p>')
        if t in plots:
            out.append(image_html(plots[t], f"score per layer on {t}",
                                  "Score per layer against relative depth with 95% CI bands; the star marks the "
                                  "layer selected without the test items."))
        out.append(f"<details><summary>every layer on {esc(t)} (value, CI, coverage)</summary>"
                   + _table(layer_table(ok, t)) + "</details>")
    return "\n".join(out)


def _model_cards(cards: Sequence[ModelCard]) -> str:
    out = ['<div class="cards">']
    for m in cards:
        tag = "stand-in" if m.what.startswith("stand-in") else "floor" if m.what == "floor" else ""
        widths = "/".join(str(w) for w in sorted(set(m.widths)))
        fields = [("label", m.label), ("checkpoint", m.checkpoint), ("family", m.family), ("side", m.side),
                  ("direction", m.direction), ("layers", f"{len(m.layers)}: {', '.join(m.layers)}"),
                  ("widths", widths), ("fingerprint", m.fingerprint)]
        dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v) if v else '–'}</dd>" for k, v in fields)
        out.append(f'<div class="card"><h3>{esc(m.name)} <span class="tag {tag}">{esc(m.what)}</span></h3>'
                   f"<dl>{dl}</dl></div>")
    out.append("</div>")
    return "\n".join(out)


def _dataset_cards(cards: Sequence[DatasetCard]) -> str:
    out = ['<div class="cards">']
    for d in cards:
        files = "<br>".join(f"<code>{esc(f)}</code> {esc(sha)}" for f, sha in d.files) or "–"
        fields = [("title", esc(d.title)), ("licence", esc(d.license) or "–"), ("citation", esc(d.citation) or "–")]
        if d.homepage:
            fields.append(("homepage", f"<code>{esc(d.homepage)}</code>"))
        fields.append(("sha256 (12)", files))
        dl = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in fields)
        uses = []
        for u in d.tasks:
            proto = table_html(["setting", "value"], [[k, v] for k, v in u.protocol]) if u.protocol else ""
            uses.append(f"<details><summary>{esc(u.task)}: protocol</summary><p>{esc(u.description)} "
                        f"Metric: {esc(u.metric)}.</p>{proto}</details>")
        out.append(f'<div class="card"><h3>{esc(d.name)}</h3><dl>{dl}</dl>{"".join(uses)}</div>')
    out.append("</div>")
    return "\n".join(out)


def _failures(cells: Sequence[Cell]) -> str:
    failed = [c for c in cells if not c.ok]
    if not failed:
        return "<p>None.</p>"
    embs, tasks = canonical_order(list(cells))
    order = {(e, t): (i, j) for i, e in enumerate(embs) for j, t in enumerate(tasks)}
    failed.sort(key=lambda c: order[(c.embedder, c.task)])
    return table_html(["model", "task", "stage", "error"], [[c.embedder, c.task, c.stage, c.error[:300]]
                                                           for c in failed])


def render_html(cells: Sequence[Cell], *, findings: str, headline_rows: Sequence[dict[str, Any]],
                rankings: Sequence[Ranking], plots: dict[str, Path], model_cards: Sequence[ModelCard],
                dataset_cards: Sequence[DatasetCard], n_boot: int = 1000) -> str:
    """The page (a str). ``plots`` maps a task name, ``"headline-deltas"`` and ``"heatmap"`` to PNG files."""
    ok = [c for c in cells if c.ok]
    embs, tasks = canonical_order(list(cells))
    n_failed = len(cells) - len(ok)
    sections = [
        ("findings", "Findings", markdown_to_html(findings)),
        ("headline", "Headline: static vs contextual",
         "<p>Per task, each side's representative (chosen on dev data, never test) and the paired difference on "
         f"the items both scored; p-values {ADJUSTMENT}-adjusted across the table; a difference is claimed only "
         "when the adjusted p &lt; 0.05 and the CI excludes 0.</p>"
         + _headline(headline_rows, cells, n_boot)
         + (image_html(plots["headline-deltas"], "contextual minus static per task",
                       "Contextual minus static per task with the paired 95% CI; colour: the adjusted verdict.")
            if "headline-deltas" in plots else "")),
        ("ranking", "Ranking (ties where the data cannot separate models)", _ranking(rankings)),
        ("scores", "Scores with CIs and coverage", _scores(cells)
         + (image_html(plots["heatmap"], "model by task heat map",
                       "Selected-layer score per task; colour normalised per task (0 = lowest model, 1 = highest), "
                       "raw value in each cell.") if "heatmap" in plots else "")),
        ("layers", "Every layer, per task", _layers(cells, plots)),
        ("models", "Model cards", "<p>Every row of every table is one of these. A stand-in is not the published "
         "checkpoint of its family: it is what runs offline.</p>" + _model_cards(model_cards)),
        ("datasets", "Dataset cards", "<p>What each number was measured on: licence, citation, the sha256 prefix "
         "of every file the cells read, and the protocol of each task that used it. Several sets are licensed "
         "for non-commercial use only.</p>" + _dataset_cards(dataset_cards)),
        ("failures", "Failed cells", _failures(cells)),
    ]
    nav = "".join(f'<a href="#{sid}">{esc(title)}</a>' for sid, title, _ in sections)
    body = "\n".join(f'<section id="{sid}"><h2>{esc(title)}</h2>\n{content}\n</section>'
                     for sid, title, content in sections)
    intro = (f"{len(embs)} models × {len(tasks)} tasks, {len(cells)} cells"
             + (f" ({n_failed} failed)" if n_failed else "") + ". Generated by <code>ctxbench report</code> from "
             "the result store (cells.jsonl); every number has its 95% CI.")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ctxbench report</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>ctxbench report</h1>
<p class="muted">{intro}</p>
<nav>{nav}</nav>
</header>
<main>
{body}
</main>
<footer>Static and contextual word embeddings behind one interface. Tables: summary.md, layers.md, headline.md,
ranking.md (and .csv, .tex) next to this file.</footer>
</body>
</html>
"""
