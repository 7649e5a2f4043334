"""Images as a marketplace receives them: 8-bit files, and the re-encodings of an upload.

Real images come from the IDX files: every pixel is on the 8-bit grid, and most of a
Fashion-MNIST image is background at exactly 0 (exactly -1 in the model's range). A
generator's fakes are continuous tanh outputs. A detector could tell the two apart by
quantization alone, so every suite of fakes is also scored after the round trip an image
file makes (`to_8bit`: rounded to the 8-bit grid and clipped, then scaled back exactly as
real images are, `fakedet.train.to_unit_range`). A real image survives that trip unchanged.

At a trial's final checkpoint, reals and 8-bit fakes alike also pass through the
transforms an upload goes through (`TRANSFORMS`, Pillow): JPEG at quality 90 and 75,
halving and restoring the size, and a mild Gaussian blur. Each returns 8-bit images.

Pure functions of arrays: no torch.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

BACKGROUND = 0
"""The background pixel value of Fashion-MNIST's 8-bit images (-1 in the model's range)."""
JPEG_QUALITIES = (90, 75)
BLUR_RADIUS = 0.5
"""Pillow's Gaussian blur radius (its standard deviation, in pixels): a mild blur."""


def to_8bit(images: np.ndarray) -> np.ndarray:
    """Float images in [-1, 1] to the 8-bit grid, as an image file stores them.

    Args:
        images: (N, 1, 28, 28) or (N, 28, 28) floats in the model's range [-1, 1].

    Returns:
        (N, 28, 28) uint8: round((x + 1) * 127.5), clipped to 0..255.
    """
    x = np.asarray(images, dtype=np.float64).reshape(len(images), 28, 28)
    return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def background_share(images: np.ndarray) -> float:
    """Share of pixels at the background value: 0 in uint8 images, exactly -1 in float
    images in the model's range. NaN for no images."""
    images = np.asarray(images)
    if images.size == 0:
        return float("nan")
    if images.dtype == np.uint8:
        return float((images == BACKGROUND).mean())
    return float((images <= -1.0).mean())


def _per_image(images: np.ndarray, fn: Callable[[Image.Image], Image.Image]) -> np.ndarray:
    out = np.empty_like(images)
    for i, img in enumerate(images):
        out[i] = np.asarray(fn(Image.fromarray(img, mode="L")), dtype=np.uint8)
    return out


def jpeg(images: np.ndarray, quality: int) -> np.ndarray:
    """(N, 28, 28) uint8 after a JPEG encode at `quality` (1..100) and decode."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality {quality}: expected 1..100")

    def roundtrip(img: Image.Image) -> Image.Image:
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=quality)
        buf.seek(0)
        return Image.open(buf).convert("L")

    return _per_image(images, roundtrip)


def half_size(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 shrunk to 14x14 (box filter) and enlarged back (bilinear)."""
    return _per_image(
        images,
        lambda img: img.resize((14, 14), Image.Resampling.BOX).resize(
            (28, 28), Image.Resampling.BILINEAR
        ),
    )


def blur(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 after Pillow's Gaussian blur of radius `BLUR_RADIUS`."""
    return _per_image(images, lambda img: img.filter(ImageFilter.GaussianBlur(BLUR_RADIUS)))


TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    **{f"jpeg{q}": (lambda images, q=q: jpeg(images, q)) for q in JPEG_QUALITIES},
    "half": half_size,
    "blur": blur,
}
"""The upload transforms, by name: each maps (N, 28, 28) uint8 to (N, 28, 28) uint8."""
