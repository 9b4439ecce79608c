"""`grounding modalities` (what is installed) and `grounding selftrain` (the reference models trained on their own
outputs)."""

from __future__ import annotations

import argparse
import json
import sys


def show_modalities(args: argparse.Namespace) -> int:
    """Every registered adapter with the artifact kind it writes and the judges that read it; then judges that
    no installed modality feeds."""
    from grounding.adapters._protocol import adapter_kind, registered
    from grounding.judges._registry import GROUP, installed

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


def run_selftrain(args: argparse.Namespace) -> int:
    from grounding.reporting._html import render
    from grounding.reporting._run_report import gather
    from grounding.results._history import as_table, history
    from grounding.selftrain._rounds import SelfTrainConfig, selftrain

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
