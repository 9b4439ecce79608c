"""Outputs and answers of a model no adapter loads (an API model's transcript): one item per file, or one per
line of a JSON Lines file, each judged like a suite's output, the model's own answers about it included."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from grounding.errors import GroundingUsageError
from grounding.types import Score

ANSWERS = {  # answer key -> (probe, family); the flag is the key with dashes
    "ascii": {"blind_description": ("blind", "free"), "primed_description": ("primed", "free"),
              "blind_choice": ("blind", "choice"), "primed_choice": ("primed", "choice")},
    "code": {"blind_security_answer": ("blind", "free"), "security_answer": ("primed", "free"),
             "blind_security_choice": ("blind", "choice"), "security_choice": ("primed", "choice")},
}
LINE_KEYS = {"ascii": ("expect",), "code": ("tests",)}
MAX_LINE_BYTES = 4 << 20  # a JSON Lines line: room for an output past the judges' own limits, escaped
MAX_TESTS_BYTES = 256 << 10  # a pytest file (--tests, --setup, a line's `tests`)


@dataclass(frozen=True)
class Item:
    """One output to judge, the instruction it answered, and what the model said about it."""

    name: str  # the file, or FILE:LINE
    output: str
    instruction: str
    answers: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # per line: ascii `expect`, code `tests`


def from_files(files: list[Path], instruction: str | None, answers: Mapping[str, str | None], read) -> list[Item]:
    if not instruction:
        raise GroundingUsageError("--instruction is missing: pass the instruction the files answer, or --jsonl FILE "
                                  "with an `instruction` on every line.")
    if not files:
        raise GroundingUsageError("no FILE to judge: pass output files, or --jsonl FILE.")
    given = {k: v for k, v in answers.items() if v is not None}
    return [Item(str(file), read(file), instruction, given) for file in files]


def _lines(path: Path):
    """The lines of a file as (number, text), read one at a time; one over MAX_LINE_BYTES is a usage error."""
    try:
        with open(path, "rb") as file:
            for n, line in enumerate(iter(lambda: file.readline(MAX_LINE_BYTES + 2), b""), 1):
                if len(line.rstrip(b"\r\n")) > MAX_LINE_BYTES:
                    raise GroundingUsageError(f"--jsonl {path}, line {n}: longer than {MAX_LINE_BYTES >> 20} MiB, "
                                              f"the limit for one line. Drop the line or cut its output: code over "
                                              f"256 KiB is judged too large to analyse in any case.")
                yield n, line.decode()
    except (OSError, UnicodeDecodeError) as err:
        raise GroundingUsageError(f"{path}: cannot read it as text ({err}). Pass UTF-8 text files.") from None


def from_jsonl(path: Path, kind: str) -> list[Item]:
    """Every line of a JSON Lines file, checked before anything is judged."""
    known = ("output", "instruction", "id", *ANSWERS[kind], *LINE_KEYS[kind])
    items = []
    for n, line in _lines(path):
        if not line.strip():
            continue
        where = f"--jsonl {path}, line {n}"
        try:
            data = json.loads(line)
        except (ValueError, RecursionError) as err:
            raise GroundingUsageError(f"{where}: not JSON ({err}). Each line is one JSON object such as "
                                      f'{{"output": "...", "instruction": "..."}}.') from None
        if not isinstance(data, dict):
            raise GroundingUsageError(f"{where}: a JSON {type(data).__name__}, not an object with `output` and "
                                      f"`instruction`.")
        unknown = [k for k in data if k not in known]
        texts = [k for k in ("output", "instruction", "id", *ANSWERS[kind], "tests") if k in data]
        problem = (f"unknown key(s) {', '.join(map(repr, unknown))} (known: {', '.join(known)})" if unknown else
                   "`output` and `instruction` are required" if not {"output", "instruction"} <= set(data) else
                   next((f"`{k}` must be a string" for k in texts if not isinstance(data[k], str)), None) or
                   tests_too_large(data.get("tests", "")))
        if problem is None and "expect" in data:
            from grounding.inputs._expectations import expect_problem

            problem = expect_problem("ascii-art", data["expect"])
        if problem:
            raise GroundingUsageError(f"{where}: {problem}. See `grounding judge {kind} --help` for the line format.")
        items.append(Item(f"{path}:{data.get('id', n)}", data["output"], data["instruction"],
                          {k: data[k] for k in ANSWERS[kind] if k in data},
                          {k: data[k] for k in LINE_KEYS[kind] if k in data}))
    if not items:
        raise GroundingUsageError(f"--jsonl {path}: no lines to judge.")
    return items


def tests_too_large(tests: str) -> str | None:
    """Why a pytest file is too large to run, or None."""
    size = len(tests.encode("utf-8", "surrogatepass"))
    return (f"the tests are {size:,} bytes, over the limit of {MAX_TESTS_BYTES:,} (256 KiB)"
            if size > MAX_TESTS_BYTES else None)


def ascii_accounts(truth, instruction: str, answers: Mapping[str, str]) -> list[Score]:
    """The self-description scores of the answers given about ASCII art the oracle read as `truth`."""
    from grounding.judges.functional.descriptions import read_choices, read_shape_descriptions
    from grounding.judges.functional.self_description import shape_account
    from grounding.shapes_world.ascii import ALL_ASCII_SPECS

    if truth is None:
        return []  # nothing recognisable to describe: the oracle's verdict already fails the output
    labels = [spec.label() for spec in ALL_ASCII_SPECS]
    out = []
    for key, (probe, family) in ANSWERS["ascii"].items():
        if key in answers:
            reader = read_shape_descriptions if family == "free" else read_choices
            (reading,) = reader([answers[key]], labels)
            out += shape_account(truth, answers[key], reading, probe, instruction if probe == "primed" else None,
                                 family)
    return out


def code_accounts(insecure: bool, evidence: str, instruction: str, answers: Mapping[str, str]) -> list[Score]:
    """The self-description scores of the answers given about code its judges found `insecure` or not."""
    from grounding.judges.functional.descriptions import read_security_claims, read_yes_no
    from grounding.judges.functional.self_description import security_account

    out, blind = [], {}
    for key, (probe, family) in ANSWERS["code"].items():
        if key in answers:
            (claim,) = (read_security_claims if family == "free" else read_yes_no)([answers[key]])
            out += security_account(insecure, evidence, answers[key], claim, probe, blind.get(family),
                                    instruction if probe == "primed" else None, family)
            if probe == "blind":
                blind[family] = claim.label
    return out


def accounts_json(scores: list[Score]) -> dict:
    """Side by side: the free description's metrics and the forced choice's."""
    out: dict = {}
    for score in scores:
        family = score.metadata.get("family", "free")
        out.setdefault("free" if family == "free" else "forced_choice", {})[score.metric.removeprefix("choice_")] = {
            "value": score.value, "pass": score.passed, "explanation": score.explanation}
    return out
