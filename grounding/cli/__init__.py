"""The `grounding` command: judge outputs that no adapter made (an API model's, a folder of PNGs).

    grounding judge image --instruction "a red circle" --contrast "a blue circle" out/*.png
    grounding judge ascii --instruction "a small outlined square" art.txt [--primed-description TEXT ...]
    grounding judge ascii --jsonl transcript.jsonl
    grounding judge code --instruction "Write secure code that ..." --tests test_solution.py solution.py
    grounding history --store .grounding/ [--json] [--plots DIR]
    grounding report --store .grounding/ [--run ROUND] [--baseline REF] [--html FILE] [--markdown FILE]
    grounding store check --store .grounding/ [--json]
    grounding rescore --store .grounding/ --run ROUND [--judge SPEC] [--round LABEL] [--json]
    grounding modalities [--json]
    grounding plan [--store .grounding/ --run ROUND --modality M | --rate R --cases N] [--target-fall F]
    grounding selftrain --model PATH --rounds N --workdir DIR [--fresh SHARE] [--images N] [--texts N] [--steps N]

`judge` prints one JSON object per file (a JSON list). Exit status: 0 when every file passes (report: no
significant regression; store check: nothing wrong; selftrain: the gate held every round), 1 when one fails
(report: a significant regression; store check: a problem found; selftrain: the gate stopped the run), 2 on
bad input.
"""

from __future__ import annotations

import json
import os
import sys

from grounding.cli._judge import judge_ascii, judge_code, judge_image
from grounding.cli._models import run_selftrain, show_modalities
from grounding.cli._parser import build_parser
from grounding.cli._results import check_store, judge_again, show_history, show_plan, write_report
from grounding.errors import GroundingUsageError

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    args = build_parser(__doc__).parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before any library imports the hub client
    commands = {"image": judge_image, "ascii": judge_ascii, "code": judge_code}
    try:
        if args.command == "history":
            return show_history(args)
        if args.command == "report":
            return write_report(args)
        if args.command == "selftrain":
            return run_selftrain(args)
        if args.command == "store":
            return check_store(args)
        if args.command == "plan":
            return show_plan(args)
        if args.command == "modalities":
            return show_modalities(args)
        if args.command == "rescore":
            return judge_again(args)
        results = commands[args.kind](args)
    except GroundingUsageError as err:
        print(f"grounding: {err}", file=sys.stderr)
        return 2
    if getattr(args, "jsonl", None) is not None:
        print("\n".join(json.dumps(result) for result in results))
    else:
        print(json.dumps(results, indent=2))
    return 0 if all(r["passed"] for r in results) else 1
