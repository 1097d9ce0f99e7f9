"""The static HTML report: works offline (no CDN, no network), one folder you can zip and share.

Layout of ``<out>/``::

    index.html              overview first: models × systems heatmaps of D_stsp and D_H (median
                            over seeds, fixed log-scale colours: green ≤ 0.5 for D_stsp, the
                            faithful-reconstruction threshold, through yellow to red; best model
                            per system in bold), each system's data floor beside its scores
                            (:mod:`attractor.bench.floor`, cached in the store's ``meta``) and
                            per model the median and share of systems with D_stsp ≤ 0.5; then
                            leaderboard per metric (median [q25, q75] over systems, failures),
                            "wins by system property" (λ_max and Kaplan–Yorke dimension bins),
                            links to the per-system pages
    systems/<Name>.html     every model's metrics on that system, each with a thumbnail
    img/<job id>.png        true vs generated attractor (first two channels) and power spectra

Images are drawn on matplotlib's Agg canvas (no pyplot) and saved atomically
(:func:`attractor.plots.style.save`) from the trajectories the store keeps for each
job (z-scored units). A tiny inline script marks ``<body data-images="loaded/total">`` once the
page has loaded, so a headless browser can check that every image rendered.
"""

from __future__ import annotations

import colorsys
import html
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from attractor.bench.floor import report_floors
from attractor.bench.jobs import decode_array
from attractor.bench.leaderboard import (
    METRIC_BY_KEY,
    available_metrics,
    leaderboard,
    per_system,
    winners,
)
from attractor.bench.store import Store
from attractor.io import atomic_write_bytes
from attractor.train.display import MATH_INF, fmt

CSS = """
body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:2em;color:#222;
max-width:1200px}table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f2f2f2}
td.l,th.l{text-align:left}td.floor{color:#555;font-style:italic}.fail{color:#b00}.best{font-weight:bold;background:#e8f5e9}
.thumbs{display:flex;flex-wrap:wrap;gap:12px}.thumb{border:1px solid #ddd;padding:6px}
.thumb img{width:360px;height:180px;display:block}small{color:#666}
"""
SCRIPT = """<script>
window.addEventListener('load',function(){var im=document.images,n=0;
for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)n++;}
document.body.setAttribute('data-images',n+'/'+im.length);});
</script>"""
#: Bins of the "wins by system property" view.
LYAP_BINS = ((0.0, 0.2, "λ_max < 0.2"), (0.2, 1.0, "0.2 ≤ λ_max < 1"), (1.0, math.inf, "λ_max ≥ 1"))
DIM_BINS = ((0.0, 2.5, "D_KY < 2.5"), (2.5, 3.5, "2.5 ≤ D_KY < 3.5"), (3.5, math.inf, "D_KY ≥ 3.5"))
#: D_stsp at or below this is the field's threshold for a faithful reconstruction.
FAITHFUL = 0.5
#: Heatmaps of the front page: metric key → (low, high) of the log colour scale and the value
#: where green turns yellow (``None``: one continuous green → yellow → red scale).
HEATMAPS = {"D_stsp": (0.05, 20.0, FAITHFUL), "D_H": (0.02, 1.0, None)}
#: Background of a cell without a finite value.
GREY = "#dddddd"


def _fmt(v: Any) -> str:
    return html.escape(fmt(v, ".3g", inf=MATH_INF))


def _page(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body data-images='pending'>{body}{SCRIPT}</body></html>"
    ).encode()


def _thumbnail(path: Path, true: np.ndarray, gen: np.ndarray, dt: float, title: str) -> None:
    """Attractor projection and channel-0 power spectrum, true (grey) vs generated (colour)."""
    from matplotlib.figure import Figure

    from attractor.plots.style import save

    fig = Figure(figsize=(6, 3), dpi=60)
    a, b = fig.subplots(1, 2)
    j = 1 if true.shape[1] > 1 else 0
    a.plot(true[:, 0], true[:, j], color="0.6", lw=0.6, label="true")
    ok = np.isfinite(gen).all() and np.abs(gen).max() < 1e3
    if ok:
        a.plot(gen[:, 0], gen[:, j], color="tab:red", lw=0.6, label="model")
    else:
        a.text(0.5, 0.5, "diverged", transform=a.transAxes, ha="center", color="tab:red")
    lo, hi = true.min(), true.max()
    pad = 0.2 * (hi - lo + 1e-9)
    a.set_xlim(lo - pad, hi + pad)
    a.set_ylim(lo - pad, hi + pad)
    a.set_title(title, fontsize=9)
    a.set_xticks([])
    a.set_yticks([])
    f = np.fft.rfftfreq(len(true), dt)
    for y, c in ((true, "0.6"), (gen, "tab:red")):
        if c == "tab:red" and not ok:
            continue
        p = np.abs(np.fft.rfft(y[:, 0] - y[:, 0].mean())) ** 2
        b.semilogy(f[1:], p[1:] + 1e-12, color=c, lw=0.7)
    b.set_xlim(0, f[-1] / 4)
    b.set_title("power spectrum, x₀", fontsize=9)
    b.set_yticks([])
    b.tick_params(labelsize=7)
    fig.tight_layout()
    save(fig, path, dpi=60)


def heat_colour(v: float | None, lo: float, hi: float, pivot: float | None = None) -> str:
    """Background ``#rrggbb`` of value ``v`` on a fixed log scale ``[lo, hi]`` (clipped): green
    at ``lo`` through yellow to red at ``hi``; with a ``pivot``, values ≤ ``pivot`` stay green
    (darker the lower) and values above run from yellow to red. Grey for None/NaN/∞."""
    if v is None or not math.isfinite(v):
        return GREY

    def t(a: float, b: float) -> float:
        x = (math.log10(max(v, 1e-300)) - math.log10(a)) / (math.log10(b) - math.log10(a))
        return min(1.0, max(0.0, x))

    if pivot is None:
        hue = 120.0 * (1.0 - t(lo, hi))
    elif v <= pivot:
        hue = 135.0 - 40.0 * t(lo, pivot)  # greens: 135° (lowest) to 95° (at the threshold)
    else:
        hue = 60.0 * (1.0 - t(pivot, hi))  # yellow (60°) to red (0°)
    r, g, b = colorsys.hls_to_rgb(hue / 360.0, 0.75, 0.75)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _heat_cell(v: float | None, colour: str, bold: bool = False) -> str:
    text = "–" if v is None or math.isnan(v) else _fmt(v)
    return f"<td style='background:{colour}'>{f'<b>{text}</b>' if bold else text}</td>"


def _heatmap_html(rows: list[dict[str, Any]], floors: dict[str, dict[str, float] | None]) -> str:
    """The front page's overview: per metric of :data:`HEATMAPS` a models × systems table
    (floor column first), a legend, and per model the median (and for D_stsp the share of
    systems at or below :data:`FAITHFUL`)."""
    systems = sorted({r["system"] for r in rows})
    models = sorted({r["model"] for r in rows})
    keys = {m.key for m in available_metrics(rows)}
    parts = []
    for key, (lo, hi, pivot) in HEATMAPS.items():
        if key not in keys:
            continue
        m = METRIC_BY_KEY[key]
        table = per_system(rows, m)
        parts.append(
            f"<h3>{html.escape(m.label)} per system <small>(median over seeds; lower is better)"
            "</small></h3><table class='heatmap'><tr><th class='l'>system</th>"
            "<th title='the same metric between two clean trajectories of the system from "
            "different initial conditions: what a perfect model scores'>floor</th>"
            + "".join(f"<th>{html.escape(x)}</th>" for x in models)
            + "</tr>"
        )
        for s in systems:
            vals = {x: table.get(x, {}).get(s) for x in models}
            finite = [(v, x) for x, v in vals.items() if v is not None and math.isfinite(v)]
            best = min(finite)[1] if finite else None
            f = (floors.get(s) or {}).get(key)
            floor = _fmt(f) if f is not None and math.isfinite(f) else "–"
            parts.append(
                f"<tr><td class='l'><a href='systems/{html.escape(s)}.html'>{html.escape(s)}</a>"
                f"</td><td class='floor'>{floor}</td>"
                + "".join(
                    _heat_cell(vals[x], heat_colour(vals[x], lo, hi, pivot), x == best)
                    for x in models
                )
                + "</tr>"
            )
        parts.append("</table>")
        scale = f"log scale from {lo:g} to {hi:g}"
        if pivot is not None:
            legend = (
                f"Colours: green ≤ {pivot:g} (≤ {pivot:g} is the field's threshold for a faithful "
                f"reconstruction), yellow to red above it ({scale})"
            )
        else:
            legend = f"Colours: green (low) through yellow to red (high), {scale}"
        parts.append(
            f"<p class='legend'><small>{legend}; grey: no value (–) or diverged (∞). Bold: the "
            "best model of the system. <i>floor</i>: the metric between two clean trajectories "
            "of the system from different initial conditions at the test length, i.e. what a "
            "perfect model would score.</small></p>"
        )
        summary = []
        for x in models:
            v = np.array(list(table.get(x, {}).values()), dtype=float)
            if not len(v):
                continue
            item = f"<b>{html.escape(x)}</b> {_fmt(float(np.median(v)))}"
            if pivot is not None:
                k = int(np.sum(v <= pivot))
                item += f" ({k}/{len(v)} = {100 * k / len(v):.0f} % ≤ {pivot:g})"
            summary.append(item)
        what = f"share of systems with {m.label} ≤ {pivot:g}" if pivot is not None else ""
        parts.append(
            f"<p class='summary'>Median {html.escape(m.label)} over systems"
            + (f" and {html.escape(what)}" if what else "")
            + ": "
            + "; ".join(summary)
            + ".</p>"
        )
    return "".join(parts)


def _leaderboard_html(rows: list[dict[str, Any]]) -> str:
    parts = []
    for m in available_metrics(rows):
        board = leaderboard(rows, m)
        better = "lower" if m.lower_is_better else "higher"
        parts.append(
            f"<h3>{html.escape(m.label)} <small>({better} is better; {m.protocol})</small></h3>"
            "<table><tr><th class='l'>model</th><th>median</th><th>q25</th><th>q75</th>"
            "<th>systems</th><th>failed jobs</th></tr>"
        )
        for i, e in enumerate(board):
            cls = " class='best'" if i == 0 else ""
            fail = f"<span class='fail'>{e['failed']}</span>" if e["failed"] else "0"
            parts.append(
                f"<tr{cls}><td class='l'>{html.escape(e['model'])}</td><td>{_fmt(e['median'])}"
                f"</td><td>{_fmt(e['q25'])}</td><td>{_fmt(e['q75'])}</td>"
                f"<td>{e['n_systems']}</td><td>{fail}</td></tr>"
            )
        parts.append("</table>")
    return "".join(parts)


def _properties(systems: list[str]) -> dict[str, tuple[float | None, float | None]]:
    from attractor.data.systems import dysts_metadata

    cat = dysts_metadata()
    out = {}
    for s in systems:
        m = cat.get(s, {})
        out[s] = (m.get("maximum_lyapunov_estimated"), m.get("kaplan_yorke_dimension"))
    return out


def _wins_html(rows: list[dict[str, Any]]) -> str:
    metrics = available_metrics(rows)
    if not metrics:
        return "<p>No finished jobs yet.</p>"
    systems = sorted({r["system"] for r in rows})
    props = _properties(systems)
    models = sorted({r["model"] for r in rows})
    parts = []
    for m in metrics[:1] + [x for x in metrics if x.key == "vpt_lyapunov"]:
        win = winners(rows, m)
        for name, idx, bins in (
            ("λ_max (dysts)", 0, LYAP_BINS),
            ("Kaplan–Yorke dim.", 1, DIM_BINS),
        ):
            parts.append(
                f"<h3>Wins on {html.escape(m.label)} by {name}</h3><table><tr><th class='l'>"
                "bin</th><th>systems</th>"
                + "".join(f"<th>{html.escape(x)}</th>" for x in models)
                + "</tr>"
            )
            for lo, hi, label in bins:
                in_bin = [s for s in win if props[s][idx] is not None and lo <= props[s][idx] < hi]
                counts = defaultdict(int)
                for s in in_bin:
                    counts[win[s]] += 1
                top = max(counts.values(), default=0)
                cells = "".join(
                    f"<td{' class=best' if counts[x] and counts[x] == top else ''}>{counts[x]}</td>"
                    for x in models
                )
                parts.append(
                    f"<tr><td class='l'>{html.escape(label)}</td><td>{len(in_bin)}</td>{cells}</tr>"
                )
            parts.append("</table>")
    return "".join(parts)


def _system_page(store: Store, system: str, rows: list[dict[str, Any]], out: Path) -> bytes:
    metrics = available_metrics(rows)
    best = {}
    for m in metrics:
        vals = [
            (per_system(rows, m).get(model, {}).get(system), model)
            for model in {r["model"] for r in rows}
        ]
        vals = [(v, mod) for v, mod in vals if v is not None]
        if vals:
            best[m.key] = (min if m.lower_is_better else max)(vals)[1]
    head = "".join(f"<th>{html.escape(m.label)}</th>" for m in metrics)
    trs, thumbs = [], []
    for r in sorted(rows, key=lambda r: (r["model"], r["seed"])):
        cells = []
        for m in metrics:
            cls = " class='best'" if best.get(m.key) == r["model"] else ""
            cells.append(f"<td{cls}>{_fmt(r['metrics'].get(m.key))}</td>")
        status = (
            "done"
            if r["status"] == "done"
            else f"<span class='fail'>{html.escape(r['status'])}: "
            f"{html.escape(r.get('error') or '')}</span>"
        )
        trs.append(
            f"<tr><td class='l'>{html.escape(r['model'])}</td><td>{r['seed']}</td>"
            f"{''.join(cells)}<td class='l'>{status}</td></tr>"
        )
        tr = store.trace(r["id"])
        if tr is not None:
            img = out / "img" / f"{r['id']}.png"
            if not img.exists():
                _thumbnail(
                    img,
                    decode_array(tr[0]),
                    decode_array(tr[1]),
                    tr[2],
                    f"{r['model']} (seed {r['seed']})",
                )
            thumbs.append(
                f"<div class='thumb'><img src='../img/{r['id']}.png' alt='{html.escape(r['model'])}"
                f" on {html.escape(system)}'><small>{html.escape(r['model'])}, seed {r['seed']}: "
                f"D_stsp {_fmt(r['metrics'].get('D_stsp'))}, D_H {_fmt(r['metrics'].get('D_H'))}"
                "</small></div>"
            )
    body = (
        f"<p><a href='../index.html'>← leaderboard</a></p><h1>{html.escape(system)}</h1>"
        f"<table><tr><th class='l'>model</th><th>seed</th>{head}<th class='l'>status</th></tr>"
        + "".join(trs)
        + "</table><h2>True (grey) vs generated (red)</h2><div class='thumbs'>"
        + "".join(thumbs)
        + "</div>"
    )
    return _page(f"{system} — attractor bench", body)


def write_html(store: Store, rows: list[dict[str, Any]], out: str | Path) -> Path:
    """Write the report for ``rows`` (from ``store``) into folder ``out``; returns index.html."""
    out = Path(out)
    by_system: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_system[r["system"]].append(r)
    for system, rs in sorted(by_system.items()):
        atomic_write_bytes(out / "systems" / f"{system}.html", _system_page(store, system, rs, out))
    n_done = sum(r["status"] == "done" for r in rows)
    n_failed = sum(r["status"] == "failed" for r in rows)
    n_open = len(rows) - n_done - n_failed
    links = "".join(
        f"<li><a href='systems/{html.escape(s)}.html'>{html.escape(s)}</a></li>"
        for s in sorted(by_system)
    )
    failures = "".join(
        f"<tr><td class='l'>{html.escape(r['system'])}</td><td class='l'>"
        f"{html.escape(r['model'])}</td><td>{r['seed']}</td><td class='l'>"
        f"{html.escape(r.get('error') or '')}</td></tr>"
        for r in rows
        if r["status"] == "failed"
    )
    shown = {m.key for m in available_metrics(rows)} & set(HEATMAPS)
    heat = _heatmap_html(rows, report_floors(store, rows)) if shown else ""
    body = (
        "<h1>attractor bench — leaderboard</h1>"
        f"<p>{len(by_system)} systems, {len({r['model'] for r in rows})} models, "
        f"{n_done} jobs done, <span class='fail'>{n_failed} failed</span>, {n_open} not finished."
        " Medians over systems (each system: median over seeds); failed jobs count as the worst"
        " value.</p>"
        + (f"<h2>Overview</h2>{heat}" if heat else "")
        + "<h2>Leaderboard per metric</h2>"
        + _leaderboard_html(rows)
        + "<h2>Wins by system property</h2>"
        + _wins_html(rows)
        + f"<h2>Systems</h2><ul>{links}</ul>"
        + (
            "<h2>Failed jobs</h2><table><tr><th class='l'>system</th><th class='l'>model</th>"
            f"<th>seed</th><th class='l'>reason</th></tr>{failures}</table>"
            if failures
            else ""
        )
    )
    index = out / "index.html"
    atomic_write_bytes(index, _page("attractor bench", body))
    return index


__all__ = ["METRIC_BY_KEY", "write_html"]
