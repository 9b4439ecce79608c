"""`grounding judge image|ascii|code`: judge outputs that no adapter made, one JSON verdict per file or line."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from grounding.errors import GroundingUsageError


def _items(args: argparse.Namespace, kind: str):
    from grounding.inputs._transcripts import ANSWERS, from_files, from_jsonl

    if args.jsonl is not None:
        if args.files:
            raise GroundingUsageError("pass either FILE arguments or --jsonl FILE, not both.")
        return from_jsonl(args.jsonl, kind)
    read = _read_code if kind == "code" else _read_text
    return from_files(args.files, args.instruction, {k: getattr(args, k) for k in ANSWERS[kind]}, read)


def _expect(text: str | None, modality: str, example: str, required: str | None = None) -> dict | None:
    """An --expect value: a JSON object the modality's judges can read, or a one-paragraph error."""
    from grounding.inputs._expectations import expect_problem

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
    from grounding.judges.functional import shapes_oracle
    from grounding.judges.functional.clip import CLIPSCORE_SCALE, load_clip_judge, score_images

    expect = _expect(args.expect, "text-to-image", '{"things": [{"colour": "red", "shape": "circle"}]}',
                     required="things")
    from grounding.inputs._images import open_image

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


def _read_text(file: Path, limit: int | None = None) -> str:
    """A file as UTF-8 text; one over `limit` bytes is a usage error (only limit + 1 bytes are read)."""
    data = _read_bytes(file, limit)
    if limit is not None and len(data) > limit:
        raise GroundingUsageError(f"{file}: over the limit of {limit:,} bytes ({limit >> 10} KiB) for this input. "
                                  f"Pass a smaller file.")
    return _decode(file, data)


def _read_code(file: Path) -> str:
    """A generated code file; of one over the judge's limit only enough is read to judge it too large."""
    from grounding.judges.functional.analysis import MAX_CODE_BYTES

    data = _read_bytes(file, MAX_CODE_BYTES)
    if len(data) > MAX_CODE_BYTES:  # never analysed; U+FFFD for a cut character keeps it over the limit
        return data.decode(errors="replace")
    return _decode(file, data)


def _read_bytes(file: Path, limit: int | None) -> bytes:
    try:
        with open(file, "rb") as opened:
            return opened.read(-1 if limit is None else limit + 1)
    except OSError as err:
        raise GroundingUsageError(f"{file}: cannot read it as text ({err}). Pass UTF-8 text files.") from None


def _decode(file: Path, data: bytes) -> str:
    """UTF-8 with universal newlines, as Path.read_text gives it."""
    try:
        return data.decode().replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as err:
        raise GroundingUsageError(f"{file}: cannot read it as text ({err}). Pass UTF-8 text files.") from None


def _each(jobs) -> list[dict]:
    """Each (item, verdict) job's verdict; an item the judge crashes on gets its own (`error`, not passed,
    `crashed`), and the others are judged all the same."""
    results = []
    for item, verdict in jobs:
        try:
            results.append(verdict())
        except GroundingUsageError:
            raise
        except Exception as err:  # noqa: BLE001 - one item must not take the batch down with it
            results.append({"file": item.name, "instruction": item.instruction, "passed": False, "crashed": True,
                            "error": f"the judge crashed on this item: {type(err).__name__}: {err}"[:2000]})
    return results


def _score_json(score) -> dict:
    return {"metric": score.metric, "value": score.value, "pass": score.passed, "explanation": score.explanation,
            **score.metadata}


def judge_ascii(args: argparse.Namespace) -> list[dict]:
    from grounding.judges.ascii_art import clip_on_renderings
    from grounding.judges.functional.ascii_art import spec_for

    flag_expect = _expect(args.expect, "ascii-art", '{"shape": "square", "size": "small", "style": "outlined"}')
    items = _items(args, "ascii")
    expects = [item.extra.get("expect", flag_expect) for item in items]
    specs = [spec_for(item.instruction, expect) for item, expect in zip(items, expects)]
    unread = {i: (f"the instruction {item.instruction!r} names no shape or scene of the shapes world (circle, "
                  f"square, triangle, rectangle, diamond, smiley face, house, arrow pointing left/right); pass "
                  f"--expect (or `expect` on the line) to say what the art should show")
              for i, (item, spec) in enumerate(zip(items, specs)) if spec is None}
    if unread and args.jsonl is None:  # one instruction for every file: bad input, not a verdict
        i, why = next(iter(unread.items()))
        raise GroundingUsageError(f"{items[i].name}: {why}.")
    judged = [i for i in range(len(items)) if i not in unread]
    try:  # one batch; where it breaks, each item again alone below, so that only the item that breaks it fails
        batch = clip_on_renderings([items[i].output for i in judged], [specs[i] for i in judged])
        clip = {judged[j]: value for j, value in batch.items()}
    except Exception:  # noqa: BLE001
        clip = None

    def verdict(i: int) -> dict:
        item = items[i]
        if i in unread:
            return {"file": item.name, "instruction": item.instruction, "passed": False,
                    "error": f"not judged: {unread[i]}"}
        alone = clip if clip is not None else {i: v for v in clip_on_renderings([item.output], [specs[i]]).values()}
        return _ascii_verdict(item, specs[i], expects[i], alone.get(i))

    return _each((items[i], functools.partial(verdict, i)) for i in range(len(items)))


def _ascii_verdict(item, spec, expect, clip) -> dict:
    """One item's verdict: the oracle's reading, the rendered-art CLIP judge's (`clip`, where it judged) and the
    transcript's own answers."""
    from grounding.inputs._transcripts import accounts_json, ascii_accounts
    from grounding.judges.functional.ascii_art import judge_seen, size_rule
    from grounding.judges.functional.clip import CLIPSCORE_SCALE
    from grounding.shapes_world.ascii import read_ascii

    seen = read_ascii(item.output, size_rule(expect))  # read once: for the verdict and the answers
    scores = judge_seen(seen, spec)
    verdicts = {s.judge: _score_json(s) for s in scores}
    if clip is not None:
        clip_score, rank = clip
        verdicts["clip"] = {"clip_score": round(clip_score.value, 4), "scale": CLIPSCORE_SCALE,
                            "pass": rank.passed, "label_won": rank.value == 1.0,
                            "gating": rank.metadata.get("gating", True), "winner": rank.metadata["winner"],
                            "explanation": rank.explanation}
    accounts = ascii_accounts(seen.spec, item.instruction, item.answers)
    if accounts:
        verdicts["self_description"] = accounts_json(accounts)
    return {"file": item.name, "instruction": item.instruction, "expected": spec.label(),
            "judged": scores[0].metadata["judged"],
            "passed": all(s.passed is not False for s in [*scores, *accounts])
            and verdicts.get("clip", {}).get("pass") is not False, "verdicts": verdicts}


def judge_code(args: argparse.Namespace) -> list[dict]:
    from grounding.inputs._expectations import bandit_test_ids
    from grounding.judges.functional.bandit import check_severity
    from grounding.judges.functional.code import asks_for_secure_code
    from grounding.judges.functional.code import judge_code as judge
    from grounding.sandbox import Limits

    from grounding.inputs._transcripts import MAX_TESTS_BYTES

    tests = _read_text(args.tests, MAX_TESTS_BYTES) if args.tests else None
    setup = _read_text(args.setup, MAX_TESTS_BYTES) if args.setup else ""
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
    from grounding.inputs._transcripts import accounts_json, code_accounts
    from grounding.judges.functional.self_description import code_truth

    def verdict(item) -> dict:
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
        return {"file": item.name, "instruction": item.instruction, "secure_asked": secure,
                "passed": all(s.passed is not False for s in [*scores, *accounts]), "verdicts": verdicts}

    return _each((item, functools.partial(verdict, item)) for item in _items(args, "code"))


def judge(args: argparse.Namespace) -> int:
    """`grounding judge KIND`: the verdicts as JSON (a list, or one object per line for --jsonl); 0 when every item
    passes, 1 when one fails or cannot be judged, 3 when the judge crashed on one (the others are judged)."""
    results = {"image": judge_image, "ascii": judge_ascii, "code": judge_code}[args.kind](args)
    if getattr(args, "jsonl", None) is not None:
        print("\n".join(json.dumps(result) for result in results))
    else:
        print(json.dumps(results, indent=2))
    crashed = [r for r in results if r.get("crashed")]
    if crashed:
        print(f"grounding: the {args.kind} judge crashed on {len(crashed)} of {len(results)} item(s) ("
              + ", ".join(str(r["file"]) for r in crashed[:5]) + ("..." if len(crashed) > 5 else "")
              + f"); their verdicts say why (\"error\"), and every other item was judged. First: "
              f"{crashed[0]['error']}. This is a bug in grounding: please report it with that item.",
              file=sys.stderr)
        return 3
    return 0 if all(r["passed"] for r in results) else 1
