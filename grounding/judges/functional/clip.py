"""CLIP agreement through open_clip: CLIPScore and contrastive R-precision against hard contrasts.

CLIPScore here is Hessel et al. (2021): 2.5 * max(cos, 0) per sample, on a 0-2.5 scale. (torchmetrics'
CLIPScore reports 100 * cos and clips only the mean; the two scales are not comparable.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from grounding.errors import GroundingUsageError
from grounding.inputs._checkpoint import BUNDLED
from grounding.inputs._paths import user_path
from grounding.types import Score

CLIPSCORE_SCALE = "CLIPScore = 2.5*max(cos,0), Hessel et al. 2021"
NULL_PROMPTS = ("an empty image", "random noise")  # every case's implicit contrasts: an output must beat them
BUNDLED_JUDGE = BUNDLED / "shapes-clip"
ASCII_JUDGE = BUNDLED / "shapes-ascii-clip"  # reads ASCII art rendered by functional.ascii_art.ascii_image
GATING_ACCURACY = 0.95  # a judge gates only while its accuracy on held-out outputs made by others is this high


def held_out_accuracy(folder: Path) -> float | None:
    """A bundled judge's accuracy on outputs it was not trained or tuned on, as its benchmark recorded it in
    held_out.json beside the weights (benchmarks/ascii_judges.py --write); None when never measured."""
    try:
        return float(json.loads((Path(folder) / "held_out.json").read_text())["held_out_accuracy"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _usage(spec: str, problem: str) -> GroundingUsageError:
    return GroundingUsageError(
        f"--judge {spec}: {problem}. A judge is an open_clip model given as ARCH:PRETRAINED (e.g. "
        f"ViT-B-32:openai, from your local cache), ARCH:/path/to/weights.safetensors, a local open_clip folder "
        f"(open_clip_config.json + open_clip_model.safetensors), or nothing for the bundled shapes-world judge."
    )


def parse_spec(spec: str | None) -> tuple[str, str | None]:
    """(model_name, pretrained) for open_clip's factory; checks the form without importing torch."""
    if not spec:
        return f"local-dir:{BUNDLED_JUDGE}", None
    path = user_path(spec)
    if path.is_dir():
        if not (path / "open_clip_config.json").is_file():
            raise _usage(spec, "this folder has no open_clip_config.json")
        return f"local-dir:{path.resolve()}", None
    if spec.startswith(("hf-hub:", "local-dir:")):
        return spec, None
    arch, sep, pretrained = spec.partition(":")
    if not sep or not arch or not pretrained:
        raise _usage(spec, "not a folder and not of the form ARCH:PRETRAINED")
    if ("/" in pretrained or pretrained.endswith(".safetensors")) and not user_path(pretrained).is_file():
        raise _usage(spec, f"weights file {pretrained} does not exist")
    return arch, pretrained


def check_spec(spec: str | None) -> None:
    """Fail early on a judge open_clip does not know (imports open_clip, so only call when a judge is named)."""
    name, pretrained = parse_spec(spec)
    if name.startswith(("local-dir:", "hf-hub:")):
        return
    import open_clip

    if name not in open_clip.list_models():
        raise _usage(spec, f"open_clip knows no architecture {name!r}")
    if not user_path(pretrained).is_file() and pretrained not in open_clip.list_pretrained_tags_by_model(name):
        raise _usage(spec, f"open_clip knows no pretrained tag {pretrained!r} for {name}")


@dataclass(frozen=True)
class ClipJudge:
    """A loaded open_clip model with its own preprocessing and tokenizer."""

    spec: str
    model: Any
    preprocess: Any
    tokenizer: Any
    device: str

    @property
    def name(self) -> str:
        return "clip"

    def embed_images(self, images: Sequence) -> Any:
        import torch

        with torch.no_grad():
            batch = torch.stack([self.preprocess(i.convert("RGB")) for i in images]).to(self.device)
            return torch.nn.functional.normalize(self.model.encode_image(batch).float(), dim=-1)

    def embed_texts(self, texts: Sequence[str]) -> Any:
        import torch

        with torch.no_grad():
            tokens = self.tokenizer(list(texts)).to(self.device)
            return torch.nn.functional.normalize(self.model.encode_text(tokens).float(), dim=-1)


def weights_identity(spec: str | None) -> str:
    """What a judge spec's scores depend on: the content hash of a local folder or weights file, else the spec
    (an open_clip tag names fixed published weights)."""
    from grounding.inputs._checkpoint import content_hash

    name, pretrained = parse_spec(spec)
    if name.startswith("local-dir:"):
        return content_hash(Path(name.removeprefix("local-dir:")))
    if pretrained and user_path(pretrained).is_file():
        import hashlib

        with user_path(pretrained).open("rb") as weights:
            return f"{name}:{hashlib.file_digest(weights, 'sha256').hexdigest()}"
    return f"{name}:{pretrained}"


_LOADED: dict[tuple, ClipJudge] = {}  # the last judge loaded: a modality's outputs are judged a few cases at a time


def load_clip_judge(spec: str | None = None, *, device: str | None = None) -> ClipJudge:
    """Load a judge through open_clip's factory, offline: a tag must already be in the local cache. The last one
    loaded is kept while its local files are unchanged."""
    name, pretrained = parse_spec(spec)
    import open_clip
    import torch

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    key = (spec, device, _stamp(name, pretrained))
    if key in _LOADED:
        return _LOADED[key]
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained, device=device)
        tokenizer = open_clip.get_tokenizer(name)
    except Exception as err:  # open_clip raises RuntimeError, ValueError, OSError and hub errors alike
        raise _usage(spec or str(BUNDLED_JUDGE), f"open_clip could not load it ({str(err).splitlines()[0][:300]}); "
                     f"without network access a pretrained tag loads only from a local cache") from None
    model.eval()
    _LOADED.clear()
    _LOADED[key] = ClipJudge(spec=spec or "bundled:shapes-clip", model=model, preprocess=preprocess,
                             tokenizer=tokenizer, device=device)
    return _LOADED[key]


def _stamp(name: str, pretrained: str) -> tuple:
    """Name, size and modification time of each local file a spec loads: weights rewritten in place load again."""
    local = user_path(name.removeprefix("local-dir:")) if name.startswith("local-dir:") else user_path(pretrained)
    files = sorted(local.rglob("*")) if local.is_dir() else [local] if pretrained and local.is_file() else []
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.is_file())


def score_images(judge: ClipJudge, images: Sequence, instructions: Sequence[str],
                 contrasts: Sequence[Sequence[str]]) -> list[tuple[Score, Score]]:
    """For each image: its CLIPScore against its instruction and whether the instruction outranks every contrast,
    the null prompts ("an empty image", "random noise") included."""
    return score_embedded(judge, judge.embed_images(images), instructions, contrasts)


def score_embedded(judge: ClipJudge, image_embeddings: Any, instructions: Sequence[str],
                   contrasts: Sequence[Sequence[str]]) -> list[tuple[Score, Score]]:
    """`score_images` on images the judge has embedded already (normalised rows, as `embed_images` returns)."""
    contrasts = [tuple(c) + tuple(n for n in NULL_PROMPTS if n not in c and n != i)
                 for i, c in zip(instructions, contrasts)]
    texts = sorted({t for i, c in zip(instructions, contrasts) for t in (i, *c)})
    index = {t: n for n, t in enumerate(texts)}
    cos = (image_embeddings @ judge.embed_texts(texts).T).cpu()
    out = []
    for row, instruction, others in zip(cos, instructions, contrasts):
        own = float(row[index[instruction]])
        clip_score = Score("clip", "clip_score", 2.5 * max(own, 0.0), None, f"cos {own:.3f} ({CLIPSCORE_SCALE})")
        rivals = sorted(((float(row[index[t]]), t) for t in others), reverse=True)
        best, winner = rivals[0]
        won = own > best
        text = (f"instruction outranked every contrast (cos {own:.3f} > {best:.3f} for {winner!r})" if won else
                f"contrast {winner!r} won (cos {best:.3f} vs instruction {own:.3f})")
        out.append((clip_score, Score("clip", "r_precision", float(won), won, text,
                                      {"winner": instruction if won else winner, "margin": own - best})))
    return out
