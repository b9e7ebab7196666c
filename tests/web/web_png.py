"""PNG checks for the plot tests: size from the header, not blank, colours present."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from matplotlib.image import imread

BEST_RED = (214, 39, 40)
VIRIDIS_TOP = (253, 231, 37)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def pixels_near(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 12) -> int:
    px = (img[..., :3] * 255).round().astype(int)
    return int((np.abs(px - np.array(rgb)).max(axis=-1) <= tol).sum())


def check_image(path: Path, size: tuple[int, int]) -> np.ndarray:
    assert png_size(path) == size
    img = imread(path)
    assert img.shape[:2] == (size[1], size[0])
    flat = (img[..., :3] * 255).round().astype(np.int32).reshape(-1, 3)
    packed = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]
    assert len(np.unique(packed)) > 50, "the image is (nearly) blank"
    assert (flat.min(axis=1) < 200).mean() > 0.01, "almost nothing drawn"
    return img
