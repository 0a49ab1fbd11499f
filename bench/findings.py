"""results/findings.md: the findings, written from the store — every number with its CI.

Nothing here is typed by hand: each sentence is generated from the cells, says the models,
layers, values, 95% CIs, paired n and Holm-adjusted p-values it rests on, and says "no
evidence of a difference" whenever the adjusted p is 0.05 or more or the CI includes 0. The
README's results section quotes this file verbatim (a test compares them).

Sections: the headline comparison per task; what the fair static baseline (a bag of context
over the same static vectors) changes on the context tasks; which layers the contextual
models selected; the training-seed spread of the models the project trains (when a seeds
run exists); and what the rows are (stand-ins, coverage).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from bench.cell import Cell, canonical_order
from bench.headline import ADJUSTMENT, ALPHA, _paired, comparable, coverage, headline_rows
from bench.models import model_label, side
from bench.stats import holm

__all__ = ["render_findings", "seed_spread"]


def _f(x: Any, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _signed(x: float) -> str:
    return f"{x:+.3f}"


def _p(p: float, n_boot: int) -> str:
    return f"< {1 / n_boot:g}" if p < 1 / n_boot else f"{p:.3f}"


def _verdict(diff: float, low: float, high: float, p_adj: float) -> str:
    if p_adj < ALPHA and (low > 0 or high < 0):
        return "contextual ahead" if diff > 0 else "static ahead"
    return "no evidence of a difference"


def _compared(row: dict[str, Any]) -> bool:
    """A headline row with a paired difference (not a task left uncompared)."""
    diff = row["diff"]
    return diff is not None and not (isinstance(diff, float) and math.isnan(diff))


def _headline_section(rows: list[dict[str, Any]], n_boot: int, spread: dict[tuple[str, str], float]) -> list[str]:
    out = ["## Static vs contextual, per task", "",
           "Each side's representative was chosen per task on dev data (never test); differences are on the "
           f"items both scored, p-values {ADJUSTMENT}-adjusted across the {sum(r['diff'] is not None for r in rows)} "
           "compared tasks.", ""]
    by_verdict: Counter[str] = Counter()
    for r in rows:
        if not _compared(r):
            if r["note"] and "descriptive" not in r["note"]:
                out.append(f"- **{r['task']}**: not compared ({r['note']}).")
            continue
        by_verdict[r["verdict"]] += 1
        text = (f"- **{r['task']}** ({r['metric']}, resampled by {r['unit']}): {r['contextual_model']} "
                f"(layer {r['contextual_layer']}) {_f(r['contextual_value'])} "
                f"[{_f(r['contextual_ci_low'])}, {_f(r['contextual_ci_high'])}] vs {r['static_model']} "
                f"(layer {r['static_layer']}) {_f(r['static_value'])} [{_f(r['static_ci_low'])}, "
                f"{_f(r['static_ci_high'])}]; difference {_signed(r['diff'])} [{_f(r['diff_ci_low'])}, "
                f"{_f(r['diff_ci_high'])}] on {r['n_paired']} paired items, adjusted p "
                f"{_p(r['p_adjusted'], n_boot)}: {r['verdict']}.")
        noise = max(spread.get((r["contextual_model"], r["task"]), 0.0),
                    spread.get((r["static_model"], r["task"]), 0.0))
        if noise and abs(r["diff"]) <= noise:
            text += (f" The difference is within the training-seed spread ({_f(noise)}) of a model the project "
                     "trains, so it is not interpreted.")
        out.append(text)
    total = sum(by_verdict.values())
    if total:
        out += ["", f"In sum, over {total} compared tasks: " + ", ".join(
            f"{by_verdict[v]} {v}" for v in ("contextual ahead", "static ahead", "no evidence of a difference")
            if by_verdict[v]) + "."]
    return out


def _baseline_section(cells: list[Cell], rows: list[dict[str, Any]], n_boot: int, seed: int) -> list[str]:
    """Context tasks where a static model and its bag of context both ran: does the fair baseline close the gap?"""
    ok = {(c.embedder, c.task): c for c in cells if c.ok and c.selection is not None and comparable(c)}
    tests = []
    for r in rows:
        if r["kind"] != "context" or not r["contextual_model"]:
            continue
        ctx = ok.get((r["contextual_model"], r["task"]))
        for (name, task), plain in sorted(ok.items()):
            if task != r["task"] or name.startswith("bow:") or side(plain.embedder_info) != "static":
                continue
            bow = ok.get((f"bow:{name}", task))
            if bow is None or ctx is None:
                continue
            tests.append((task, name, ctx, plain, bow, _paired(plain, ctx, n_boot=n_boot, seed=seed),
                          _paired(bow, ctx, n_boot=n_boot, seed=seed)))
    if not tests:
        return []
    pvals = [t[5].get("p", float("nan")) for t in tests] + [t[6].get("p", float("nan")) for t in tests]
    adj = holm([float("nan") if p is None else p for p in pvals])
    k = len(tests)
    out = ["", "## The fair static baseline on the context tasks", "",
           "A static model's own vector cannot tell senses apart; its bag of context (`bow:`: the word's vector "
           "plus the mean of its context words' vectors) can. Each line compares the contextual representative "
           "with the plain static vector and with its bag of context, on the items all scored "
           f"({ADJUSTMENT}-adjusted over these {2 * k} comparisons).", ""]
    for i, (task, name, ctx, plain, bow, d_plain, d_bow) in enumerate(tests):
        if "diff" not in d_plain or "diff" not in d_bow:
            continue
        v_plain = _verdict(d_plain["diff"], d_plain["diff_ci_low"], d_plain["diff_ci_high"], adj[i])
        v_bow = _verdict(d_bow["diff"], d_bow["diff_ci_low"], d_bow["diff_ci_high"], adj[k + i])
        assert plain.selection is not None and bow.selection is not None and ctx.selection is not None
        text = (f"- **{task}**: {name} alone {_f(plain.selection.value)}, bow:{name} {_f(bow.selection.value)} "
                f"[{_f(bow.selection.ci_low)}, {_f(bow.selection.ci_high)}], {ctx.embedder} "
                f"{_f(ctx.selection.value)}. Contextual minus static: {_signed(d_plain['diff'])} "
                f"[{_f(d_plain['diff_ci_low'])}, {_f(d_plain['diff_ci_high'])}] against the plain vector "
                f"({v_plain}), {_signed(d_bow['diff'])} [{_f(d_bow['diff_ci_low'])}, {_f(d_bow['diff_ci_high'])}] "
                f"against the bag of context ({v_bow}).")
        if v_plain == "contextual ahead" and v_bow != "contextual ahead":
            text += (" The fair baseline closes the gap: what context buys here, a static average of the context "
                     "also buys.")
        elif v_plain == "contextual ahead" and v_bow == "contextual ahead":
            shrink = d_plain["diff"] - d_bow["diff"]
            text += (f" The bag of context narrows the gap by {_f(shrink)} but does not close it." if shrink > 0 else
                     f" The bag of context does not narrow the gap here (it is {_f(-shrink)} wider).")
        out.append(text)
    return out


def _layers_section(cells: list[Cell]) -> list[str]:
    ok = [c for c in cells if c.ok and c.selection is not None and side(c.embedder_info) == "contextual"]
    if not ok:
        return []
    embs, _ = canonical_order(ok)
    out = ["", "## Layers the contextual models selected (without test data)", ""]
    for e in embs:
        mine = [c for c in ok if c.embedder == e]
        layers = mine[0].embedder_info.get("layers") or []
        by_kind: dict[str, Counter[str]] = defaultdict(Counter)
        for c in mine:
            assert c.selection is not None
            by_kind[c.task_meta.get("kind", "")][c.selection.layer] += 1
        parts = []
        for kind, counts in by_kind.items():
            common = ", ".join(f"{layer} ({n})" for layer, n in counts.most_common(3))
            parts.append(f"{kind}: {common}")
        out.append(f"- {e} ({len(layers)} layers: {', '.join(layers[:1])} ... {', '.join(layers[-1:])}): "
                   + "; ".join(parts) + ".")
    return out


def _classification_section(cells: list[Cell], rows: list[dict[str, Any]]) -> list[str]:
    """Downstream classification: every model's selected-layer accuracy per dataset, then the verdicts."""
    ok = [c for c in cells if c.ok and c.selection is not None and c.task_meta.get("kind") == "classification"]
    if not ok:
        return []
    from bench.tables import md_table

    embs, tasks = canonical_order(ok)
    by = {(c.embedder, c.task): c for c in ok}
    protocols = sorted({str(r.protocol["protocol"]) for c in ok for r in c.results[:1] if r.protocol.get("protocol")})
    table = []
    for e in embs:
        row = [e]
        for t in tasks:
            c = by.get((e, t))
            sel = c.selection if c else None
            row.append("" if sel is None else f"{_f(sel.value)} [{_f(sel.ci_low)}, {_f(sel.ci_high)}] (n {sel.n})")
        table.append(row)
    verdicts = Counter(r["verdict"] for r in rows if r["task"] in tasks and _compared(r))
    # models scored on fewer items than the most of any model on the same task (a per-model cap)
    most = {t: max(c.selection.n for c in ok if c.task == t and c.selection is not None) for t in tasks}
    sampled = [e for e in embs if any(c.selection is not None and c.selection.n < most[c.task]
                                      for c in ok if c.embedder == e)]
    said = ", ".join(f"{n} {v}" for v, n in verdicts.most_common()) or "no comparison"
    return ["", "## Downstream classification", "",
            f"Accuracy of the selected layer (chosen by inner cross-validation or on the dev set, never the test "
            f"items) with its 95% CI and the items scored; frozen mean-pooled features, protocol "
            f"{', '.join(protocols) or '?'}; `sst2-finetune` fine-tunes the model on the same training phrases and "
            "is scored on the same test items as `sst2`."
            + (f" Scored on a smaller sample on some datasets (n): {', '.join(sampled)}." if sampled else ""), "",
            md_table(["model", *tasks], table), "",
            f"Contextual vs static representative on these datasets (Holm-adjusted, above): {said}."]


def seed_spread(seed_cells: list[Cell]) -> dict[tuple[str, str], float]:
    """Per (model name, task): the range (max - min) of the selected-layer score across training seeds."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for c in seed_cells:
        if c.ok and c.selection is not None and not math.isnan(c.selection.value):
            values[(c.embedder, c.task)].append(c.selection.value)
    return {k: float(np.max(v) - np.min(v)) for k, v in values.items() if len(v) >= 2}


def _seeds_section(spread: dict[tuple[str, str], float], seeds: int) -> list[str]:
    if not spread:
        return ["", "## Training variance", "",
                "No seeds run in this results directory: the models the project trains (word2vec-brown, "
                "elmo-brown, ulmfit-brown) have no measured seed spread here, so no difference involving them "
                "is interpreted beyond its CI. `make seeds` trains them with 3 seeds."]
    out = ["", "## Training variance of the models the project trains", "",
           f"Trained with {seeds} seeds (results/seeds/); range of the selected-layer score across seeds:", ""]
    by_model: dict[str, list[float]] = defaultdict(list)
    for (m, _), v in spread.items():
        by_model[m].append(v)
    for m, vs in sorted(by_model.items()):
        out.append(f"- {m}: median {_f(float(np.median(vs)))}, largest {_f(max(vs))} over {len(vs)} tasks.")
    return out


def _rows_section(cells: list[Cell]) -> list[str]:
    ok = [c for c in cells if c.ok]
    embs, tasks = canonical_order(ok)
    info = {c.embedder: c.embedder_info for c in ok}
    out = ["", "## What the rows are", ""]
    for e in embs:
        out.append(f"- {e} ({side(info[e])}): {info[e].get('label') or model_label(e)}.")
    low = sorted({(c.embedder, c.task) for c in ok if not math.isnan(coverage(c)) and coverage(c) < 0.9})
    if low:
        out += ["", "Scored on under 90% of the items attempted (flagged ⚠ in the tables): "
                + "; ".join(f"{e} on {t}" for e, t in low) + "."]
    return out


def render_findings(cells: list[Cell], *, seed_cells: list[Cell] | None = None, n_boot: int = 1000,
                    seed: int = 0) -> str:
    """The text of results/findings.md."""
    rows = headline_rows(cells, n_boot=n_boot, seed=seed)
    spread = seed_spread(seed_cells or [])
    n_seeds = max(Counter((c.embedder, c.task) for c in seed_cells or []).values(), default=0)
    lines = ["# Findings", "",
             "Generated by `ctxbench report` from the result store; every number is a result with its 95% CI. "
             "Do not edit: the README quotes this file."]
    lines += [""] + _headline_section(rows, n_boot, spread)
    lines += _baseline_section(cells, rows, n_boot, seed)
    lines += _classification_section(cells, rows)
    lines += _layers_section(cells)
    lines += _seeds_section(spread, n_seeds)
    lines += _rows_section(cells)
    return "\n".join(lines) + "\n"
