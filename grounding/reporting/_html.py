"""One self-contained HTML file per report: summary, plots, the comparison and regressed cases side by side.

Images are embedded as base64 thumbnails, ASCII art and code as text, with each output's failed verdicts
(bandit findings, the oracle's reading, the model's descriptions) beneath it.
"""

from __future__ import annotations

import base64
import io
from collections import defaultdict
from html import escape
from pathlib import Path

from grounding.errors import GroundingUsageError, printable
from grounding.inputs._images import open_image
from grounding.reporting._plots import history_png
from grounding.reporting._run_report import RunReport
from grounding.results import ModalityComparison
from grounding.results.store import ArtifactProblem, read_verified
from grounding.types import Record

CASES_SHOWN = 12  # per modality: the cases that fell furthest
THUMBNAIL = 160
TEXT_LINES = 40
STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}.bad{background:#fde2e2}
.ok{background:#e6f4ea}pre{font-size:12px;margin:0;max-height:30em;overflow:auto}img{image-rendering:pixelated}
.why{font-size:12px;color:#555;max-width:40em}h2{border-bottom:1px solid #ccc}"""


def _output_html(record: Record, store: Path) -> str:
    """The record's output, read from inside its store and checked against its hash, or why it is not shown."""
    name = Path(record.artifact).name
    try:
        data = read_verified(store, record.artifact)
        if name.endswith(".png"):
            image = open_image(data, name)
    except (ArtifactProblem, GroundingUsageError) as problem:
        return f"<em>output not shown: {escape(str(problem))}</em>"
    if name.endswith(".png"):
        from PIL import Image

        scale = THUMBNAIL / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.NEAREST)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        encoded = base64.b64encode(buffer.getvalue()).decode()
        return f'<img src="data:image/png;base64,{encoded}" alt="{escape(name)}">'
    lines = data.decode("utf-8", errors="replace").split("\n")
    more = f"\n... ({len(lines) - TEXT_LINES} more lines)" if len(lines) > TEXT_LINES else ""
    return f"<pre>{escape(chr(10).join(lines[:TEXT_LINES]) + more)}</pre>"


def _why(records: list[Record]) -> str:
    """The verdicts that failed, and the model's descriptions, as a list under the output."""
    shown = [r for r in records if r.passed is False or (r.judge == "self-description" and r.explanation)]
    items = "".join(f"<li>{'✗' if r.passed is False else '·'} {escape(r.judge)}/{escape(r.metric)}: "
                    f"{escape(r.explanation[:400])}</li>" for r in shown)
    return f'<ul class="why">{items}</ul>' if items else ""


def _by_output(records: tuple[Record, ...], modality: str) -> dict[tuple[str, int], list[Record]]:
    out: dict[tuple[str, int], list[Record]] = defaultdict(list)
    for r in records:
        if r.modality == modality and not r.is_control:
            out[(r.case_id, r.seed)].append(r)
    return out


def _comparison_html(report: RunReport, comparison: ModalityComparison) -> str:
    rows = "".join(
        f'<tr class="{"bad" if s.regressed else ""}"><td>{escape(s.name)}</td><td>{s.before:.3f}</td>'
        f"<td>{s.after:.3f}</td><td>{s.interval.mean:+.3f} [{s.interval.low:+.3f}, {s.interval.high:+.3f}]</td>"
        f"<td>{s.cases}</td><td>{s.p_value:.3g}</td><td>{s.p_adjusted:.3g}</td><td>{s.tolerance:.3f}</td>"
        f"<td>{'∞' if s.mde == float('inf') else f'{s.mde:.3f}'}</td>"
        f"<td>{'REGRESSED' if s.regressed else ''}</td></tr>"
        for s in sorted(comparison.slices, key=lambda s: (not s.regressed, s.interval.mean)))
    table = ("<table><tr><th>slice</th><th>baseline</th><th>now</th><th>delta [CI]</th><th>cases</th><th>p</th>"
             "<th>Holm p</th><th>tolerance</th><th>min. detectable fall</th><th></th></tr>" + rows + "</table>")
    fell = sorted((c for c in comparison.cases if c.after < c.before or c.regressed),
                  key=lambda c: (not c.regressed, c.after - c.before))[:CASES_SHOWN]
    now, before = _by_output(report.records, comparison.modality), _by_output(report.baseline_records,
                                                                            comparison.modality)
    cases = report.cases.get(comparison.modality, {})
    blocks = []
    for change in fell:
        case = cases.get(change.case_id)
        seeds = sorted({s for c, s in now if c == change.case_id} & {s for c, s in before if c == change.case_id})
        cells = "".join(
            f"<tr><td>seed {seed}</td><td>{_output_html(before[change.case_id, seed][0], report.baseline_store)}"
            f"{_why(before[change.case_id, seed])}</td><td>{_output_html(now[change.case_id, seed][0], report.store)}"
            f"{_why(now[change.case_id, seed])}</td></tr>" for seed in seeds)
        blocks.append(f"<h4 class=\"{'bad' if change.regressed else ''}\">{escape(change.case_id)}: "
                      f"{escape(case.instruction if case else '')}</h4><p>{escape(change.line())}</p>"
                      f"<table><tr><th></th><th>baseline {escape(comparison.baseline)}</th><th>this run</th></tr>"
                      f"{cells}</table>")
    shown = (f"<h3>Cases that fell, side by side ({len(fell)} shown)</h3>" + "".join(blocks)) if fell else \
        "<p>No case fell against the baseline.</p>"
    distribution = f"<p>{escape(comparison.distribution.line())}</p>" if comparison.distribution else ""
    return (f"<h3>Against baseline {escape(comparison.baseline)}</h3>"
            f"<pre>{escape(comparison.message().split(chr(10))[0])}</pre>{distribution}{table}{shown}")


def _failing_html(report: RunReport, modality: str) -> str:
    """Without a baseline: the run's own failing outputs."""
    outputs = _by_output(report.records, modality)
    failing = [(key, rs) for key, rs in sorted(outputs.items()) if any(r.passed is False for r in rs)]
    if not failing:
        return "<p>Every output passed every judge.</p>"
    cells = "".join(f"<tr><td>{escape(c)} seed {s}</td><td>{_output_html(rs[0], report.store)}{_why(rs)}</td></tr>"
                    for (c, s), rs in failing[:CASES_SHOWN * 2])
    return f"<h3>Failing outputs ({len(failing)})</h3><table>{cells}</table>"


def render(report: RunReport) -> str:
    run = report.run
    status = report.status()
    parts = [f"<h1>grounding report: round {escape(run['round'])}</h1>",
             f"<p>run {escape(run['run_id'])} of {escape(run['model'])}, store {escape(str(report.store))}; "
             f"<strong>{escape(status)}</strong></p>"]
    for modality in sorted(report.cases):
        row = report.row(modality, run["run_id"])
        metrics = "".join(f"<tr><td>{escape(k)}</td><td>{v:.3f}</td></tr>"
                          for k, v in (row.metrics if row else {}).items())
        plot = base64.b64encode(history_png(list(report.rows), modality)).decode()
        comparison = next((c for c in report.comparisons if c.modality == modality), None)
        floors = (report.floors or {}).get(modality)
        floor = f"<p>floor: {escape(floors.pooled.line())}</p>" if floors else ""
        undecided = report.undecided(modality)
        floor += f"<p><strong>{escape(undecided)}</strong></p>" if undecided else ""
        weak = report.weak_sandbox(modality)
        floor += f"<p><strong>{escape(weak)}</strong></p>" if weak else ""
        parts += [f"<h2>{escape(modality)}</h2><table><tr><th>metric</th><th>this run</th></tr>{metrics}</table>", floor,
                  f'<img src="data:image/png;base64,{plot}" alt="history of {escape(modality)}" style="max-width:100%">',
                  _comparison_html(report, comparison) if comparison else _failing_html(report, modality)]
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>grounding report {escape(run['round'])}"
            f"</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n")
    return printable(page, lines=True)  # a browser shows control characters as nothing, but a terminal runs them
