"""How often each verdict statistic catches a drifted text-to-image model, and how often it cries wolf on a
healthy one: the verdict-power benchmark (issue 12). Not a timed test: it generates thousands of images.

Drift: for each repeat, a fresh seed window; the healthy bundled model is the baseline on that window, and
copies with Gaussian UNet weight noise (0.05, 0.1, 0.15, 0.2 times each tensor's spread, the noise drawn anew
per repeat) and with the words "red" and "blue" swapped in the text encoder are judged against it. For each
statistic, the share of repeats in which it fired.
False alarms: for each of W fresh seed windows, the healthy model alone (floors only), an unchanged re-save and
the healthy retrain shapes-t2i-seed2 against the healthy model on the same window; the share of windows in
which a statistic fired, and in which `pytest suites/` (the gate) would fail.

    python benchmarks/verdict_power.py --profile default --repeats 5 --windows 20 [--parts drift,alarms]
    python benchmarks/verdict_power.py --profile thorough --repeats 5 --windows 0

Prints Markdown tables (README's "Verdict power"). To spread the work over processes, give each a range
(`--repeat-start`, `--window-start`) and `--save hits.json`, then print the tables of all of them with
`--merge a.json b.json ...`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import grounding
from grounding.inputs import BUNDLED
from grounding.settings import PROFILES
from grounding.shapes_world.drift import degrade_unet, swap_token_embeddings

HEALTHY, RETRAINED = BUNDLED / "shapes-t2i", BUNDLED / "shapes-t2i-seed2"
NOISES = (0.05, 0.1, 0.15, 0.2)
STATISTICS = ("gate fails", "a case below its floor", "pooled rate below the floor", "all outputs (pass share)",
              "oracle/correct", "clip/r_precision", "a concept", "clip/clip_score", "clip/margin (early warning)",
              "oracle/agreement (early warning)", "diversity (spread across seeds)", "a case fell (McNemar)")


def fired(verdict: grounding.GateVerdict) -> dict[str, bool]:
    """Which statistics flagged this run."""
    results = verdict.results["text-to-image"]
    comparison = results.comparison
    regressed = {s.name for s in comparison.regressions} if comparison else set()
    warned = {s.name for s in comparison.slices if s.warns} if comparison else set()
    return {
        "gate fails": not verdict.passed,
        "a case below its floor": bool(results.floors.failed_cases()),
        "pooled rate below the floor": results.floors.pooled.failed,
        "all outputs (pass share)": "all outputs" in regressed,
        "oracle/correct": "oracle/correct" in regressed,
        "clip/r_precision": "clip/r_precision" in regressed,
        "a concept": any(name.startswith("concept") for name in regressed),
        "clip/clip_score": "clip/clip_score" in regressed,
        "clip/margin (early warning)": "clip/margin" in warned,
        "oracle/agreement (early warning)": "oracle/agreement" in warned,
        "diversity (spread across seeds)": any(name.startswith("diversity") for name in regressed),
        "a case fell (McNemar)": bool(comparison and any(c.regressed for c in comparison.cases)),
    }


def copy_of(model: Path, folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    return Path(shutil.copytree(model, folder))


def table(title: str, columns: list[str], rows: dict[str, list[bool]]) -> str:
    lines = [f"**{title}**", "", "| statistic | " + " | ".join(columns) + " |",
             "| --- |" + " --- |" * len(columns)]
    for statistic in STATISTICS:
        cells = []
        for column in columns:
            hits = rows.get(f"{column}:{statistic}", [])
            cells.append(f"{sum(hits)}/{len(hits)}" if hits else "-")
        lines.append(f"| {statistic} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def merged(files: list[Path]) -> int:
    """The tables of several saved runs (ranges of repeats or windows of one profile), added up."""
    hits: dict[str, list[bool]] = {}
    profiles = set()
    for file in files:
        saved = json.loads(file.read_text())
        profiles.add(saved["profile"])
        for key, values in saved["hits"].items():
            hits.setdefault(key, []).extend(values)
    drift = [c for c in [f"noise {n}" for n in NOISES] + ["swap red/blue"] if f"{c}:gate fails" in hits]
    alarms = [c for c in ("healthy, no baseline", "re-save vs healthy", "retrain vs healthy") if f"{c}:gate fails" in hits]
    profile = "/".join(sorted(profiles))
    if drift:
        print(table(f"Detection, profile {profile}", drift, hits) + "\n")
    if alarms:
        print(table(f"False alarms, profile {profile}", alarms, hits))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=list(PROFILES), default="default")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--parts", default="drift,alarms")
    parser.add_argument("--noise", type=float, nargs="*", default=list(NOISES))
    parser.add_argument("--alarms", default="healthy,resave,retrain", help="which false-alarm columns to run")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the store and models here (default: temp)")
    parser.add_argument("--repeat-start", type=int, default=0, help="the first repeat (default 0)")
    parser.add_argument("--window-start", type=int, default=0, help="the first seed window (default 0)")
    parser.add_argument("--save", type=Path, default=None, help="also write what fired to this JSON file")
    parser.add_argument("--merge", type=Path, nargs="+", default=None, help="print the tables of saved files")
    args = parser.parse_args()
    if args.merge:
        return merged(args.merge)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="verdict-power-"))
    store = work / "store"
    seeds = PROFILES[args.profile].get("seeds", 4)
    common = dict(store=store, modalities=["text-to-image"], profile=args.profile)
    started = time.time()
    hits: dict[str, list[bool]] = {}

    def note(column: str, verdict: grounding.GateVerdict) -> None:
        for statistic, value in fired(verdict).items():
            hits.setdefault(f"{column}:{statistic}", []).append(value)
        print(f"  [{time.time() - started:6.0f}s] {column}: " + ", ".join(k for k, v in fired(verdict).items() if v),
              file=sys.stderr, flush=True)
        if args.save:  # after every verdict, so that a run cut short keeps what it measured
            args.save.write_text(json.dumps({"profile": args.profile, "hits": hits}, indent=1))

    parts = args.parts.split(",")
    drift_columns = [f"noise {n}" for n in args.noise] + ["swap red/blue"]
    if "drift" in parts:
        swapped = copy_of(HEALTHY, work / "swapped")
        swap_token_embeddings(swapped, "red", "blue")
        for repeat in range(args.repeat_start, args.repeat_start + args.repeats):
            start = 100_000 + repeat * seeds
            grounding.gate(HEALTHY, baseline=None, round=f"healthy-{repeat}", seed_start=start, **common)
            for noise in args.noise:
                noisy = copy_of(HEALTHY, work / "noisy")
                degrade_unet(noisy, noise, seed=1000 + repeat)
                note(f"noise {noise}", grounding.gate(noisy, baseline=f"healthy-{repeat}", round=f"n{noise}-{repeat}",
                                                      seed_start=start, **common))
            note("swap red/blue", grounding.gate(swapped, baseline=f"healthy-{repeat}", round=f"swap-{repeat}",
                                                 seed_start=start, **common))
    alarms = args.alarms.split(",")
    alarm_columns = [name for key, name in (("healthy", "healthy, no baseline"), ("resave", "re-save vs healthy"),
                                            ("retrain", "retrain vs healthy")) if key in alarms]
    if "alarms" in parts and args.windows:
        resaved = work / "resaved"
        if "resave" in alarms:
            from diffusers import DiffusionPipeline

            shutil.rmtree(resaved, ignore_errors=True)
            DiffusionPipeline.from_pretrained(HEALTHY).save_pretrained(resaved, safe_serialization=True)
            shutil.copy(HEALTHY / "grounding.toml", resaved / "grounding.toml")
        for window in range(args.window_start, args.window_start + args.windows):
            start = 500_000 + window * seeds
            note("healthy, no baseline", grounding.gate(HEALTHY, baseline=None, round=f"window-{window}",
                                                        seed_start=start, **common))
            if "resave" in alarms:
                note("re-save vs healthy", grounding.gate(resaved, baseline=f"window-{window}",
                                                          round=f"resave-{window}", seed_start=start, **common))
            if "retrain" in alarms:
                note("retrain vs healthy", grounding.gate(RETRAINED, baseline=f"window-{window}",
                                                          round=f"retrain-{window}", seed_start=start, **common))
    print(f"profile {args.profile}: {seeds} seeds per case; {time.time() - started:.0f} s\n")
    if "drift" in parts:
        print(table(f"Detection over {args.repeats} repeats (fresh seeds each), profile {args.profile}",
                    drift_columns, hits) + "\n")
    if "alarms" in parts and args.windows:
        print(table(f"False alarms over {args.windows} fresh seed windows, profile {args.profile}", alarm_columns,
                    hits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
