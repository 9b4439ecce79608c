"""Opening images from outside: their size is checked from the header before any pixel is decoded."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

from grounding.errors import GroundingUsageError
from grounding.types import Artifact

MAX_PIXELS = 40_000_000  # 40 megapixels (e.g. 6300x6300): 120 MB as RGB; larger is no model output


def _too_large(name: str, size: str) -> GroundingUsageError:
    return GroundingUsageError(
        f"{name}: the image is {size}, more than the {MAX_PIXELS // 10**6} megapixels grounding decodes (each "
        f"megapixel takes 3 MB of memory once decoded). Downscale it first, e.g. to the size your model generates.")


def open_image(source: Path | bytes, name: str | None = None):
    """The image as RGB, or a one-paragraph GroundingUsageError for a file that is not one or is too large."""
    from PIL import Image, UnidentifiedImageError

    name = name or str(source)
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            if image.width * image.height > MAX_PIXELS:
                raise _too_large(name, f"{image.width}x{image.height} pixels")
            return image.convert("RGB")
    except Image.DecompressionBombError:  # PIL's own, larger limit, checked as it opens
        raise _too_large(name, f"over {Image.MAX_IMAGE_PIXELS * 2 // 10**6} megapixels") from None
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise GroundingUsageError(f"{name}: cannot read it as an image ({err}). Pass PNG or JPEG files.") from None


def open_artifacts(artifacts: Sequence[Artifact]) -> list:
    """A run's image outputs as RGB, each named by its case and seed in an error."""
    return [open_image(a.path, f"the output for case {a.case_id}, seed {a.seed} ({a.path})") for a in artifacts]
