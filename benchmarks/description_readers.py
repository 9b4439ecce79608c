"""The offline description readers' accuracy on descriptions written as chat models write them.

tests/data/descriptions.toml holds 62 shape descriptions and 40 security answers with their true readings,
split into `dev` (looked at while building the readers) and `held` (read once at the end). Prints the accuracy
of each reader per split, and every description it misreads.

    python benchmarks/description_readers.py
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from grounding.judges.functional.descriptions import read_security_claims, read_shape_descriptions
from grounding.shapes_world.ascii import ALL_ASCII_SPECS

DATA = Path(__file__).parents[1] / "tests" / "data" / "descriptions.toml"


def main() -> int:
    data = tomllib.loads(DATA.read_text())
    labels = [spec.label() for spec in ALL_ASCII_SPECS]
    readers = {"shape": lambda texts: read_shape_descriptions(texts, labels), "security": read_security_claims}
    print("| reader | split | items | accuracy |\n| --- | --- | --- | --- |")
    missed = []
    for kind, reader in readers.items():
        for split in ("dev", "held"):
            items = [x for x in data[kind] if x["split"] == split]
            readings = reader([x["text"] for x in items])
            right = [(r.label or "unclear") == x["reading"] for r, x in zip(readings, items)]
            print(f"| {kind} | {split} | {len(items)} | {sum(right) / len(items):.3f} |")
            missed += [f"{kind}: {x['text']!r} read as {r.label or 'unclear'}, means {x['reading']}"
                       for r, x, ok in zip(readings, items, right) if not ok]
    print("\n".join(["", *missed]) if missed else "\nno description misread")
    return 0


if __name__ == "__main__":
    sys.exit(main())
