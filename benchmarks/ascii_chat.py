"""How well the ASCII-art judge reads whole chat answers drawn by another hand.

Measures, on a JSONL file of chat-style answers (``benchmarks/data/ascii_chat_dev.jsonl`` or
``benchmarks/data/ascii_chat_heldout.jsonl``), how often ``grounding judge ascii`` accepts the answers
whose art really shows what the instruction asks (``"correct": true``) and refuses those whose art shows
another shape, style, size or scene (``"correct": false``; near misses and answers whose prose claims the
right thing included), overall, per drawing ``style`` and per chat ``wrapper``, and how many items crashed
the judge or were "not judged". A verdict with an ``error`` counts as not accepted.

Both files were written by a hand that never read the judge's code or its test data; the held-out file was
never run through the judge before being committed, and its items are not to be looked at while working on
the judge (report its aggregate numbers only).

Each line holds ``id``, ``instruction``, ``output``, ``correct``, ``style`` and ``wrapper``. The judge's
``--jsonl`` refuses keys it does not know, so the script hands it a temporary copy with ``id``,
``instruction`` and ``output`` only, in one process for the whole file, and pairs the verdicts (one JSON
object per line, in the same order) with the labels.

    python benchmarks/ascii_chat.py benchmarks/data/ascii_chat_dev.jsonl [--grounding PATH] [--misses]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

DEFAULT_GROUNDING = "/work/main/.venv/bin/grounding"
JUDGE_KEYS = ("id", "instruction", "output")


def load(path):
    items = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                item = json.loads(line)
                for key in ("id", "instruction", "output", "correct", "style", "wrapper"):
                    if key not in item:
                        raise SystemExit(f"{path}:{n}: missing {key!r}")
                items.append(item)
    return items


def judge(items, grounding):
    fd, tmp = tempfile.mkstemp(suffix=".jsonl", prefix="ascii_chat_")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for item in items:
                f.write(json.dumps({k: item[k] for k in JUDGE_KEYS}, ensure_ascii=False) + "\n")
        proc = subprocess.run([grounding, "judge", "ascii", "--jsonl", tmp],
                              capture_output=True, text=True, encoding="utf-8")
    finally:
        os.unlink(tmp)
    if proc.returncode not in (0, 1, 3):
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"grounding judge ascii exited {proc.returncode}")
    verdicts = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if len(verdicts) != len(items):
        raise SystemExit(f"{len(verdicts)} verdicts for {len(items)} items")
    return verdicts, proc.returncode


def accepted(verdict):
    return bool(verdict.get("passed")) and not verdict.get("error")


def share(num, den):
    return f"{num / den:.3f} ({num}/{den})" if den else "- (0/0)"


def table(title, rows_of):
    print(f"\n{title}:")
    print(f"  {'':22} {'accepts correct':>18} {'refuses wrong':>18}")
    for key in sorted(rows_of):
        c = rows_of[key]
        print(f"  {key:22} {share(c['acc'], c['ncorrect']):>18} {share(c['ref'], c['nwrong']):>18}")


def what_it_said(verdict):
    if verdict.get("error"):
        return verdict["error"][:140]
    oracle = (verdict.get("verdicts") or {}).get("oracle") or {}
    reading = oracle.get("reading") or oracle.get("explanation") or ""
    return f"passed={verdict.get('passed')}; {reading}"[:160]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("jsonl")
    ap.add_argument("--grounding", default=DEFAULT_GROUNDING)
    ap.add_argument("--misses", action="store_true",
                    help="list the items the judge got wrong (dev file only; never for the held-out file)")
    args = ap.parse_args(argv)
    items = load(args.jsonl)
    verdicts, rc = judge(items, args.grounding)

    def counter():
        return {"acc": 0, "ncorrect": 0, "ref": 0, "nwrong": 0}

    overall, by_style, by_wrapper = counter(), collections.defaultdict(counter), collections.defaultdict(counter)
    crashes = not_judged = 0
    misses = []
    for item, verdict in zip(items, verdicts):
        ok = accepted(verdict)
        crashes += bool(verdict.get("crashed"))
        not_judged += str(verdict.get("error", "")).startswith("not judged")
        for c in (overall, by_style[item["style"]], by_wrapper[item["wrapper"]]):
            if item["correct"]:
                c["ncorrect"] += 1
                c["acc"] += ok
            else:
                c["nwrong"] += 1
                c["ref"] += not ok
        if ok != bool(item["correct"]):
            misses.append((item, verdict))

    print(f"{args.jsonl}: {len(items)} items, judge exit status {rc}")
    print(f"accepts correct: {share(overall['acc'], overall['ncorrect'])}")
    print(f"refuses wrong:   {share(overall['ref'], overall['nwrong'])}")
    print(f"crashed: {crashes}   not judged: {not_judged}")
    table("per style", by_style)
    table("per wrapper", by_wrapper)
    if args.misses:
        print(f"\nmisses ({len(misses)}):")
        for item, verdict in misses:
            kind = "correct refused" if item["correct"] else "wrong accepted"
            print(f"  {item['id']} [{item['style']}/{item['wrapper']}] {kind}: {item['instruction']!r} -> "
                  f"{what_it_said(verdict)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
