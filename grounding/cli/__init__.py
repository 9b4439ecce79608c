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
bad input, 3 when a judge crashed on an item (`judge`: that item's verdict says why, the others are judged).
"""

from __future__ import annotations

import os
import sys

from grounding.cli._judge import judge
from grounding.cli._models import run_selftrain, show_modalities
from grounding.cli._parser import build_parser
from grounding.cli._results import check_store, judge_again, show_history, show_plan, write_report
from grounding.errors import GroundingUsageError

__all__ = ["main"]

COMMANDS = {"judge": judge, "history": show_history, "report": write_report, "store": check_store,
            "rescore": judge_again, "plan": show_plan, "modalities": show_modalities, "selftrain": run_selftrain}


def main(argv: list[str] | None = None) -> int:
    args = build_parser(__doc__).parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before any library imports the hub client
    try:
        return COMMANDS[args.command](args)
    except GroundingUsageError as err:
        print(f"grounding: {err}", file=sys.stderr)
        return 2
