"""A stored run's Markdown summary: it fits a CI job summary or a pull-request comment."""

from __future__ import annotations

from grounding.errors import printable
from grounding.reporting._run_report import RunReport


def markdown(report: RunReport) -> str:
    """A short summary: status, headline metrics against the baseline, and every significant regression (made
    printable: it is printed on a terminal or a CI log)."""
    run = report.run
    status = report.status()
    lines = [f"## grounding: round `{run['round']}` (run `{run['run_id']}`) — {status}", ""]
    if report.baseline:
        lines += [f"Against baseline `{report.baseline}`; a regression counts when significant after Holm's "
                  f"correction and larger than its tolerance.", ""]
    lines += ["| modality | metric | baseline | this run | change |", "| --- | --- | --- | --- | --- |"]
    base_id = report.baseline_records[0].run_id if report.baseline_records else None
    for modality in sorted(report.cases):
        now = report.row(modality, run["run_id"])
        before = report.row(modality, base_id) if base_id else None
        for name, value in (now.metrics if now else {}).items():
            old = before.metrics.get(name) if before else None
            lines.append(f"| {modality} | {name} | {'-' if old is None else f'{old:.3f}'} | {value:.3f} | "
                         + ("-" if old is None else f"{value - old:+.3f}") + " |")
    regressions = [(c.modality, s) for c in report.comparisons for s in c.regressions]
    cases = [(c.modality, case) for c in report.comparisons for case in c.cases if case.regressed]
    if report.floor_failures():
        lines += ["", "### Below the floor", ""] + [f"- {line}" for line in report.floor_failures()]
    undecided = [(m, report.undecided(m)) for m in sorted(report.cases) if report.undecided(m)]
    if undecided:
        lines += ["", "### Undecided (no evidence either way)", ""] + [f"- **{m}** {line}" for m, line in undecided]
    weak = [(m, report.weak_sandbox(m)) for m in sorted(report.cases) if report.weak_sandbox(m)]
    if weak:
        lines += ["", "### Weak sandbox isolation", ""] + [f"- **{m}** {line}" for m, line in weak]
    if regressions or cases:
        lines += ["", "### Significant regressions", ""]
        lines += [f"- **{m}** {s.line().replace('  REGRESSED', '')}" for m, s in regressions]
        lines += [f"- **{m}** case `{case.case_id}`: {case.line()}" for m, case in cases]
    return printable("\n".join(lines), lines=True) + "\n"
