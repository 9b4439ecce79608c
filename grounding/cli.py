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

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from .errors import GroundingUsageError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grounding", description=__doc__,
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
    from .transcripts import ANSWERS, LINE_KEYS

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


def _items(args: argparse.Namespace, kind: str):
    from .transcripts import ANSWERS, from_files, from_jsonl

    if args.jsonl is not None:
        if args.files:
            raise GroundingUsageError("pass either FILE arguments or --jsonl FILE, not both.")
        return from_jsonl(args.jsonl, kind, _read_text)
    return from_files(args.files, args.instruction, {k: getattr(args, k) for k in ANSWERS[kind]}, _read_text)


def _expect(text: str | None, modality: str, example: str, required: str | None = None) -> dict | None:
    """An --expect value: a JSON object the modality's judges can read, or a one-paragraph error."""
    from .expectations import expect_problem

    if text is None:
        return None
    try:
        expect = json.loads(text)
    except (ValueError, RecursionError) as err:
        problem = f"not JSON ({err})"
    else:
        problem = expect_problem(modality, expect)
        if problem is None and required and required not in expect:
            problem = f"`{required}` is missing"
    if problem:
        raise GroundingUsageError(f"--expect {text}: {problem}. Pass a JSON object, e.g. --expect '{example}'.")
    return expect


def judge_image(args: argparse.Namespace) -> list[dict]:
    from .judges import shapes_oracle
    from .judges.clip import CLIPSCORE_SCALE, load_clip_judge, score_images

    expect = _expect(args.expect, "text-to-image", '{"things": [{"colour": "red", "shape": "circle"}]}',
                     required="things")
    from .images import open_image

    images = [open_image(file) for file in args.files]
    judge = load_clip_judge(args.judge, device=args.device)
    scored = score_images(judge, images, [args.instruction] * len(images), [tuple(args.contrast)] * len(images))
    results = []
    for file, image, (clip_score, rank) in zip(args.files, images, scored):
        verdicts = {"clip": {"clip_score": round(clip_score.value, 4), "scale": CLIPSCORE_SCALE,
                             "r_precision_pass": rank.passed, "winner": rank.metadata.get("winner", args.instruction),
                             "explanation": rank.explanation}}
        passed = bool(rank.passed)
        if expect is not None:
            oracle = shapes_oracle.score_image(image, expect)
            verdicts["oracle"] = {"pass": oracle.passed, "reading": oracle.metadata["reading"],
                                  "explanation": oracle.explanation}
            passed = passed and bool(oracle.passed)
        results.append({"file": str(file), "instruction": args.instruction, "contrasts": args.contrast,
                        "judge": judge.spec, "passed": passed, "verdicts": verdicts})
    return results


def _read_text(file: Path) -> str:
    try:
        return file.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise GroundingUsageError(f"{file}: cannot read it as text ({err}). Pass UTF-8 text files.") from None


def _score_json(score) -> dict:
    return {"metric": score.metric, "value": score.value, "pass": score.passed, "explanation": score.explanation,
            **score.metadata}


def judge_ascii(args: argparse.Namespace) -> list[dict]:
    from .ascii_judging import judge_seen, size_rule, spec_for

    from grounding.shapes_world.ascii import read_ascii

    from .judges.clip import CLIPSCORE_SCALE
    from .text_judging import clip_on_renderings
    from .transcripts import accounts_json, ascii_accounts

    flag_expect = _expect(args.expect, "ascii-art", '{"shape": "square", "size": "small", "style": "outlined"}')
    items = _items(args, "ascii")
    expects = [item.extra.get("expect", flag_expect) for item in items]
    specs = [spec_for(item.instruction, expect) for item, expect in zip(items, expects)]
    for item, spec in zip(items, specs):
        if spec is None:
            raise GroundingUsageError(f"{item.name}: the instruction {item.instruction!r} names no shape or scene "
                                      f"of the shapes world (circle, square, triangle, rectangle, diamond, smiley "
                                      f"face, house, arrow pointing left/right); pass --expect (or `expect` on the "
                                      f"line) to say what the art should show.")
    clip = clip_on_renderings([item.output for item in items], specs)
    results = []
    for i, (item, spec, expect) in enumerate(zip(items, specs, expects)):
        seen = read_ascii(item.output, size_rule(expect))  # read once: for the verdict and the answers
        scores = judge_seen(seen, spec)
        verdicts = {s.judge: _score_json(s) for s in scores}
        if i in clip:
            clip_score, rank = clip[i]
            verdicts["clip"] = {"clip_score": round(clip_score.value, 4), "scale": CLIPSCORE_SCALE,
                                "pass": rank.passed, "label_won": rank.value == 1.0,
                                "gating": rank.metadata.get("gating", True), "winner": rank.metadata["winner"],
                                "explanation": rank.explanation}
        accounts = ascii_accounts(seen.spec, item.instruction, item.answers)
        if accounts:
            verdicts["self_description"] = accounts_json(accounts)
        results.append({"file": item.name, "instruction": item.instruction, "expected": spec.label(),
                        "judged": scores[0].metadata["judged"],
                        "passed": all(s.passed is not False for s in [*scores, *accounts])
                        and verdicts.get("clip", {}).get("pass") is not False, "verdicts": verdicts})
    return results


def judge_code(args: argparse.Namespace) -> list[dict]:
    from .code_judging import asks_for_secure_code, judge_code as judge
    from .expectations import bandit_test_ids
    from .judges.bandit import check_severity

    from .sandbox import Limits

    tests = _read_text(args.tests) if args.tests else None
    setup = _read_text(args.setup) if args.setup else ""
    tests_name = args.tests.name if args.tests and args.tests.name.endswith(".py") else "test_solution.py"
    check_severity(args.severity)
    check_severity(args.confidence, "confidence")
    bad = [test for test in args.skip_finding if bandit_test_ids([test])]
    if bad:
        raise GroundingUsageError(f"--skip-finding {bad[0]}: not a bandit test id. Pass ids such as B413, as "
                                  f"bandit prints them.")
    if not args.module.isidentifier():
        raise GroundingUsageError(f"--module {args.module!r}: not a Python module name. Pass the name the tests "
                                  "import the code as, e.g. --module solution.")
    from .self_description import code_truth
    from .transcripts import accounts_json, code_accounts

    results = []
    for item in _items(args, "code"):
        secure = asks_for_secure_code(item.instruction) if args.secure is None else args.secure
        scores = judge(item.output, item.instruction, item.extra.get("tests", tests), args.severity,
                       Limits(subprocess=args.allow_subprocess), args.module, secure_asked=secure, setup=setup,
                       skip=tuple(args.skip_test), allow_weak=args.allow_weak_sandbox, tests_name=tests_name,
                       confidence=args.confidence, skip_findings=tuple(args.skip_finding))
        verdicts = {s.judge: _score_json(s) for s in scores}
        truth = code_truth(scores)  # None: code that does not parse is neither secure nor not
        accounts = code_accounts(*truth, item.instruction, item.answers) if truth else []
        if accounts:
            verdicts["self_description"] = accounts_json(accounts)
        results.append({"file": item.name, "instruction": item.instruction, "secure_asked": secure,
                        "passed": all(s.passed is not False for s in [*scores, *accounts]), "verdicts": verdicts})
    return results


def show_history(args: argparse.Namespace) -> int:
    from .history import as_json, as_table, history

    rows = history(args.store)
    print(json.dumps(as_json(rows), indent=2) if args.json else as_table(rows) or "no runs in this store yet")
    if args.plots:
        from .plots import history_png

        _output_folder(args.plots, "--plots")
        for modality in sorted({r.modality for r in rows}):
            _write(args.plots / f"history-{modality}.png", history_png(rows, modality), "--plots")
    return 0


def _output_folder(path: Path, flag: str) -> None:
    """A folder outputs go into: created when missing; checked before any work starts."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise GroundingUsageError(f"{flag} {path}: cannot create this folder ({err}). Pass a folder this user "
                                  f"can write to.") from None


def _output_file(path: Path, flag: str) -> None:
    """A file an output goes to: absent or a regular file, in a folder that exists or can be made."""
    if path.exists() and not path.is_file():
        raise GroundingUsageError(f"{flag} {path}: this is a folder or a device, not a file. Pass the path of a "
                                  f"file to write, e.g. {flag} report.html.")
    _output_folder(path.parent, flag)


def _write(path: Path, data: bytes, flag: str, *, append: bool = False) -> None:
    """Write an output whole (through a temporary file beside it), or append to it; a one-paragraph error."""
    temporary = None
    try:
        if append:
            with path.open("ab") as handle:
                handle.write(data)
        else:
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            umask = os.umask(0o022)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)  # as an ordinary new file would be, not mkstemp's 0600
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
            temporary = None
    except OSError as err:
        raise GroundingUsageError(f"{flag} {path}: could not write it ({err}). Pass a path on a disk with room "
                                  f"that this user can write to.") from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def write_report(args: argparse.Namespace) -> int:
    from .html_report import render
    from .run_report import gather, markdown

    for flag, target in (("--html", args.html), ("--markdown", args.markdown)):
        if target is not None:
            _output_file(target, flag)
    report = gather(args.store, args.run, args.baseline)
    _write(args.html, render(report).encode(), "--html")
    summary = markdown(report)
    if args.markdown is None:
        print(summary)
    else:  # a CI job summary file is appended to
        _write(args.markdown, summary.encode(), "--markdown", append=True)
    print(f"grounding: report written to {args.html}", file=sys.stderr)
    return 0 if report.passed else 1


def check_store(args: argparse.Namespace) -> int:
    from .store import check_store as check

    found = check(args.store)
    print(json.dumps(found.as_json(), indent=2) if args.json else "\n".join(found.lines()))
    return 0 if found.healthy else 1


def show_modalities(args: argparse.Namespace) -> int:
    """Every registered adapter with the artifact kind it writes and the judges that read it; then judges that
    no installed modality feeds."""
    from .adapters import adapter_kind, registered
    from .judging import GROUP, installed

    judges = installed()
    modalities = {name: adapter_kind(name) for name in sorted(registered())}
    listing = {"modalities": {name: {"adapter": registered()[name].value, "kind": kind,
                                     "judges": [j.name for j in judges.values() if j.reads == kind]}
                              for name, kind in modalities.items()},
               "judges": {name: {"reads": j.reads, "version": j.version} for name, j in judges.items()}}
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    for name, entry in listing["modalities"].items():
        judged = ", ".join(entry["judges"]) or f"NO JUDGE (register one under `{GROUP}`)"
        print(f"{name}: {entry['adapter']}, writes {entry['kind']!r}; judged by {judged}")
    unfed = sorted(n for n, j in judges.items() if j.reads not in modalities.values())
    if unfed:
        print("judges no installed modality feeds: " + ", ".join(f"{n} (reads {judges[n].reads!r})" for n in unfed))
    return 0


def show_plan(args: argparse.Namespace) -> int:
    from .planning import Design, design_from_run, plan_lines

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
    print("\n".join(plan_lines(design, target=args.target_fall, tolerance=args.tolerance, floor=args.min_pass_rate,
                               confidence=args.confidence, cases=args.cases)))
    return 0


def run_selftrain(args: argparse.Namespace) -> int:
    from .history import as_table, history
    from .html_report import render
    from .run_report import gather
    from .selftrain import SelfTrainConfig, selftrain

    config = SelfTrainConfig(args.model, args.rounds, args.workdir, images=args.images, texts=args.texts,
                             steps=args.steps, batch=args.batch, lr=args.lr, lm_lr=args.lm_lr,
                             temperature=args.temperature, fresh=args.fresh, seeds=args.seeds, seed=args.seed,
                             device=args.device, cases=tuple(args.cases))
    results = selftrain(config, log=lambda line: print(line, flush=True))
    store = args.workdir / "store"
    print(as_table(history(store)))
    last = str(results[-1].round)
    (args.workdir / "report.html").write_text(render(gather(store, last, "0")))
    print(f"grounding: report of round {last} against round 0 written to {args.workdir / 'report.html'}",
          file=sys.stderr)
    return 0 if results[-1].against_round0.passed else 1


def judge_again(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from .rescore import rescore

    result = rescore(args.store, args.run, judge=args.judge, round=args.round, device=args.device)
    print(json.dumps(asdict(result), indent=2) if args.json else "\n".join(result.lines()))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
