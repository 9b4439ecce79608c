"""`grounding history`, `report`, `store check`, `plan` and `rescore`: what a store holds, read without a model."""

from __future__ import annotations

import argparse
import json
import sys

from grounding.cli._files import output_file, output_folder, write_output
from grounding.errors import GroundingUsageError, printable


def show_history(args: argparse.Namespace) -> int:
    from grounding.results._history import as_json, as_table, history

    rows = history(args.store)
    _say(json.dumps(as_json(rows), indent=2) if args.json else as_table(rows) or "no runs in this store yet")
    if args.plots:
        from grounding.reporting._plots import history_png

        output_folder(args.plots, "--plots")
        for modality in sorted({r.modality for r in rows}):
            write_output(args.plots / f"history-{modality}.png", history_png(rows, modality), "--plots")
    return 0


def write_report(args: argparse.Namespace) -> int:
    from grounding.reporting import gather, markdown, render_html

    for flag, target in (("--html", args.html), ("--markdown", args.markdown)):
        if target is not None:
            output_file(target, flag)
    report = gather(args.store, args.run, args.baseline)
    write_output(args.html, render_html(report).encode(), "--html")
    summary = markdown(report)
    if args.markdown is None:
        _say(summary)
    else:  # a CI job summary file is appended to
        write_output(args.markdown, summary.encode(), "--markdown", append=True)
    print(f"grounding: report written to {args.html}", file=sys.stderr)
    return 0 if report.passed else 1


def check_store(args: argparse.Namespace) -> int:
    from grounding.results.store import check_store as check

    found = check(args.store)
    _say(json.dumps(found.as_json(), indent=2) if args.json else "\n".join(found.lines()))
    return 0 if found.healthy else 1


def show_plan(args: argparse.Namespace) -> int:
    from grounding.results._planning import Design, design_from_run, plan_lines

    for name in ("target_fall", "rate", "tolerance", "min_pass_rate", "confidence"):
        if not 0 <= getattr(args, name) <= 1:
            raise GroundingUsageError(f"plan --{name.replace('_', '-')} {getattr(args, name)}: must lie between 0 "
                                      f"and 1.")
    if (args.cases is not None and args.cases < 1) or args.slices < 1:
        raise GroundingUsageError("plan --cases and --slices: must be at least 1.")
    if args.store is not None:
        design = design_from_run(args.store, args.run, args.modality)
    else:
        design = Design(f"an assumed pass rate of {args.rate:.3f}", (args.rate,) * (args.cases or 60), True,
                        args.slices)
    _say("\n".join(plan_lines(design, target=args.target_fall, tolerance=args.tolerance, floor=args.min_pass_rate,
                               confidence=args.confidence, cases=args.cases)))
    return 0


def judge_again(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from grounding.running._rescore import rescore

    result = rescore(args.store, args.run, judge=args.judge, round=args.round, device=args.device)
    _say(json.dumps(asdict(result), indent=2) if args.json else "\n".join(result.lines()))
    return 0


def _say(text: str) -> None:
    """Print what a store holds (labels, run ids, file names, outputs): JSON escapes control characters itself,
    plain text is made printable."""
    print(printable(text, lines=True))
