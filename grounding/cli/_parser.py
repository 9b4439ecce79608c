"""The `grounding` command's arguments: one subcommand per job, each option with its help."""

from __future__ import annotations

import argparse
from pathlib import Path


def build_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grounding", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    past = commands.add_parser("history", help="metrics of every run in a store, round by round")
    past.add_argument("--store", type=Path, default=Path(".grounding"), help="the result store (default .grounding/)")
    past.add_argument("--json", action="store_true", help="print JSON instead of a table")
    past.add_argument("--plots", type=Path, default=None, metavar="DIR",
                      help="also write history-MODALITY.png there: metrics and the concepts that moved most")
    report = commands.add_parser("report", help="an HTML report and a Markdown summary of a run against a baseline")
    report.add_argument("--store", type=Path, default=Path(".grounding"), help="the result store (default .grounding/)")
    report.add_argument("--run", default=None, help="a run id or round label (default: the latest run)")
    report.add_argument("--baseline", default=None,
                        help="a round label or run id, or another store (default: the run's own --baseline, "
                             "else the store's first run)")
    report.add_argument("--html", type=Path, default=Path("grounding-report.html"),
                        help="where to write the HTML report (default grounding-report.html)")
    report.add_argument("--markdown", type=Path, default=None,
                        help="where to write the Markdown summary (default: print it), e.g. $GITHUB_STEP_SUMMARY")
    again = commands.add_parser("rescore", help="judge a stored run's outputs again (another --judge), without the "
                                                "model, as a new run linked to the old one")
    again.add_argument("--store", type=Path, default=Path(".grounding"), help="the result store (default .grounding/)")
    again.add_argument("--run", required=True, help="the run id or round label whose outputs to judge again")
    again.add_argument("--judge", default=None, help="the CLIP judge, as pytest's --judge (default: the bundled one)")
    again.add_argument("--round", default=None, help="the new run's round label (default: ROUND+rescored)")
    again.add_argument("--device", default=None, help="torch device for the judges (default: cuda when present)")
    again.add_argument("--json", action="store_true", help="print JSON instead of lines")
    loop = commands.add_parser("selftrain", help="fine-tune the models on their own outputs, gating each round")
    loop.add_argument("--model", type=Path, required=True,
                      help="the round-0 models: a diffusers pipeline, a causal LM, or a folder whose grounding.toml "
                           "names them (e.g. fixtures/checkpoints)")
    loop.add_argument("--rounds", type=int, required=True)
    loop.add_argument("--workdir", type=Path, required=True, help="a new folder for the rounds' models and the store")
    loop.add_argument("--fresh", type=float, default=0.0,
                      help="share of fresh shapes-world data in each round's training sets (default 0)")
    loop.add_argument("--images", type=int, default=512, help="text-to-image training images per round (default 512)")
    loop.add_argument("--texts", type=int, default=512,
                      help="language-model training exchanges per round (default 512)")
    loop.add_argument("--steps", type=int, default=300, help="fine-tuning steps per round and model (default 300)")
    loop.add_argument("--batch", type=int, default=32)
    loop.add_argument("--lr", type=float, default=1e-4, help="text-to-image learning rate (default 1e-4)")
    loop.add_argument("--lm-lr", type=float, default=1e-4, help="language-model learning rate (default 1e-4)")
    loop.add_argument("--temperature", type=float, default=1.0,
                      help="the language model samples its own training answers at this temperature (default 1)")
    loop.add_argument("--seeds", type=int, default=4, help="the gate's generations per case (default 4)")
    loop.add_argument("--seed", type=int, default=0)
    loop.add_argument("--cases", type=Path, action="append", default=[],
                      help="a case file for the gate, used for the modality it names (repeatable; default: the "
                           "suites' own)")
    loop.add_argument("--device", default=None)
    planned = commands.add_parser("plan", help="seeds and cases a run needs to detect a target fall")
    planned.add_argument("--target-fall", type=float, default=0.05, help="the fall of a pass share to detect "
                         "with 80%% power (default 0.05)")
    planned.add_argument("--store", type=Path, default=None, help="plan from a stored run's own pass rates")
    planned.add_argument("--run", default=None, help="with --store: a run id or round label (default: the latest)")
    planned.add_argument("--modality", default=None, help="with --store: the modality to plan for")
    planned.add_argument("--rate", type=float, default=0.95, help="without --store: the pass rate (default 0.95)")
    planned.add_argument("--cases", type=int, default=None, help="plan for this many cases (default: the run's, "
                         "else 60)")
    planned.add_argument("--slices", type=int, default=20, help="without --store: slices tested together (default 20)")
    planned.add_argument("--tolerance", type=float, default=0.05, help="the --concept-tolerance (default 0.05)")
    planned.add_argument("--min-pass-rate", type=float, default=0.75, help="the floor (default 0.75)")
    planned.add_argument("--confidence", type=float, default=0.95)
    listed = commands.add_parser("modalities", help="the installed modalities (adapters) and the judges of each")
    listed.add_argument("--json", action="store_true", help="print JSON instead of text")
    store = commands.add_parser("store", help="look after a result store")
    store_commands = store.add_subparsers(dest="store_command", required=True)
    check = store_commands.add_parser("check", help="the database's integrity; missing, damaged and orphaned "
                                                    "artifacts (changes nothing)")
    check.add_argument("--store", type=Path, default=Path(".grounding"), help="the result store (default .grounding/)")
    check.add_argument("--json", action="store_true", help="print JSON instead of text")
    judge = commands.add_parser("judge", help="judge existing outputs against an instruction")
    kinds = judge.add_subparsers(dest="kind", required=True)
    image = kinds.add_parser("image", help="judge image files")
    image.add_argument("files", nargs="+", type=Path, metavar="FILE")
    image.add_argument("--instruction", required=True)
    image.add_argument("--contrast", action="append", default=[], help="a hard contrast prompt (repeatable)")
    image.add_argument("--judge", default=None, help="CLIP judge spec (default: the bundled shapes-world judge)")
    image.add_argument("--expect", default=None,
                       help='shapes-world scene as JSON for the oracle, e.g. \'{"things": [{"colour": "red", '
                            '"shape": "circle"}]}\'')
    image.add_argument("--device", default=None)
    ascii_art = kinds.add_parser("ascii", help="judge text files of ASCII art (or whole chat answers)")
    _transcript_options(ascii_art, "ascii")
    ascii_art.add_argument("--expect", default=None,
                           help='the shapes-world picture as JSON, e.g. \'{"shape": "square", "size": "small", '
                                '"style": "outlined"}\' (default: read from the instruction\'s words)')
    code = kinds.add_parser("code", help="judge Python files (or whole chat answers)")
    _transcript_options(code, "code")
    code.add_argument("--tests", type=Path, default=None,
                      help="a pytest file that imports the code as `solution` (see --module); run by pytest in the "
                           "sandbox, its `security`-marked tests counted apart")
    code.add_argument("--module", default="solution", help="the module name the tests import the code as")
    code.add_argument("--setup", type=Path, default=None,
                      help="a Python file run in the code's sandboxed process before the code is imported (stubs); "
                           "the tests can import what it defines from `sandbox_setup`")
    code.add_argument("--skip-test", action="append", default=[], metavar="ID",
                      help="leave out a test by its id (test_x or test_x[case]); repeatable")
    code.add_argument("--allow-subprocess", action="store_true",
                      help="let the code start programs (every other confinement stays)")
    code.add_argument("--allow-weak-sandbox", action="store_true",
                      help="run the code even where no isolation layer (bubblewrap) is available: limits only")
    code.add_argument("--severity", default="medium", help="lowest bandit severity that counts (default medium)")
    code.add_argument("--confidence", default="low", help="lowest bandit confidence that counts (default low)")
    code.add_argument("--skip-finding", action="append", default=[], metavar="BXXX",
                      help="a bandit test id that does not count (reported as suppressed); repeatable")
    code.add_argument("--secure", action=argparse.BooleanOptionalAction, default=None,
                      help="whether the instruction asked for secure code (default: it says secure or safe)")
    return parser


ASKED = {"ascii": ("description of the art", "pick among the shapes-world labels or 'none'"),
         "code": ("answer to 'is this code secure?'", "answer when told to answer yes or no first")}


def _transcript_options(parser: argparse.ArgumentParser, kind: str) -> None:
    """The files or --jsonl transcript to judge, the instruction, and one flag per answer in ANSWERS[kind]."""
    from grounding.inputs._transcripts import ANSWERS, LINE_KEYS

    parser.add_argument("files", nargs="*", type=Path, metavar="FILE")
    parser.add_argument("--instruction", default=None)
    scored = "accuracy, instruction bias" + (" and false assurance" if kind == "code" else "")
    for key, (probe, family) in ANSWERS[kind].items():
        when = "without the instruction" if probe == "blind" else "with the instruction in context"
        parser.add_argument("--" + key.replace("_", "-"), dest=key, default=None, metavar="TEXT",
                            help=f"the model's {ASKED[kind][family != 'free']}, asked {when}; scored for {scored}")
    parser.add_argument("--jsonl", type=Path, default=None, metavar="FILE",
                        help="judge many items in one process: one JSON object per line with `output`, "
                             "`instruction`, optional `id`, the answers above by their names (e.g. "
                             + ", ".join(f"`{k}`" for k in list(ANSWERS[kind])[:2]) + ") and "
                             + ", ".join(f"`{k}`" for k in LINE_KEYS[kind]) + "; prints one JSON verdict per line")
