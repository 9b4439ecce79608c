"""The `grounding` command: judge outputs that no adapter made (an API model's, a folder of PNGs).

    grounding judge image --instruction "a red circle" --contrast "a blue circle" out/*.png

Prints one JSON object per file (a JSON list), exit status 0 when every file passes, 1 when one fails,
2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import GroundingUsageError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grounding", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
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
    return parser


def _open_images(files: list[Path]) -> list:
    from PIL import Image, UnidentifiedImageError

    images = []
    for file in files:
        try:
            images.append(Image.open(file).convert("RGB"))
        except (OSError, UnidentifiedImageError) as err:
            raise GroundingUsageError(f"{file}: cannot read it as an image ({err}). Pass PNG or JPEG files.") from None
    return images


def judge_image(args: argparse.Namespace) -> list[dict]:
    from .judges import shapes_oracle
    from .judges.clip import CLIPSCORE_SCALE, load_clip_judge, score_images

    expect = None
    if args.expect:
        try:
            expect = json.loads(args.expect)
            if not isinstance(expect, dict) or not shapes_oracle.applies(expect):
                raise ValueError
        except ValueError:
            raise GroundingUsageError(f"--expect {args.expect}: not a JSON object with a non-empty `things` list, "
                                      f"e.g. '{{\"things\": [{{\"colour\": \"red\", \"shape\": \"circle\"}}]}}'.") from None
    images = _open_images(args.files)
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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before any library imports the hub client
    try:
        results = judge_image(args)
    except GroundingUsageError as err:
        print(f"grounding: {err}", file=sys.stderr)
        return 2
    print(json.dumps(results, indent=2))
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
