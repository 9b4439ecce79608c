"""Opening images from outside: their size is checked from the header before any pixel is decoded."""

from __future__ import annotations

import io
from pathlib import Path

from .errors import GroundingUsageError

MAX_PIXELS = 40_000_000  # 40 megapixels (e.g. 6300x6300): 120 MB as RGB; larger is no model output


def open_image(source: Path | bytes, name: str | None = None):
    """The image as RGB, or a one-paragraph GroundingUsageError for a file that is not one or is too large."""
    from PIL import Image, UnidentifiedImageError

    name = name or str(source)
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise GroundingUsageError(
                    f"{name}: the image is {width}x{height} pixels, more than the {MAX_PIXELS // 10**6} megapixels "
                    f"grounding decodes (decoding it could take {width * height * 3 // 2**20} MiB of memory). "
                    f"Downscale it first, e.g. to the size your model generates.")
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as err:
        raise GroundingUsageError(f"{name}: cannot read it as an image ({err}). Pass PNG or JPEG files.") from None
