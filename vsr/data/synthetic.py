"""Demo video data made offline from the photographs that ship inside scikit-image.

``make demo`` needs frames with real textures and real (sub-pixel) motion without downloading
anything: each clip slides, zooms and slightly rotates a window over one photograph along a
smooth random path. Frames are rendered at twice the output size with bicubic ``warpAffine`` on a
pre-shrunk source and then area-downsampled, so the motion has no aliasing shimmer that a VSR
model could learn as "detail". Train and test clips use different photographs.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from vsr.io.image import write_image

# Only images bundled in the scikit-image wheel (others would need pooch downloads).
TRAIN_IMAGES = (
    "astronaut",
    "coffee",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
    "camera",
    "brick",
    "gravel",
    "moon",
)
TEST_IMAGES = ("chelsea", "coins")
SPLITS = {"train": TRAIN_IMAGES, "test": TEST_IMAGES}
_SUPERSAMPLE = 2


def load_photo(name: str) -> np.ndarray:
    """A scikit-image sample photograph as uint8 RGB (grey images are repeated to 3 channels)."""
    import skimage.data  # heavy import, only needed when generating

    img = np.asarray(getattr(skimage.data, name)())
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3].astype(np.uint8))


def _trajectory(
    rng: np.random.Generator, num_frames: int, size: tuple[int, int], src_hw: tuple[int, int]
) -> list[tuple[float, float, float, float]]:
    """(cx, cy, zoom, angle) per frame, zoom in source pixels per output pixel, kept inside the
    source: the window's half-diagonal bounds its extent under any rotation."""
    t = np.arange(num_frames, dtype=np.float64)
    half_diag = 0.5 * math.hypot(*size)
    zoom_rate = rng.uniform(-0.01, 0.01)
    zoom_gain = np.exp(zoom_rate * t)
    # The largest zoom that still leaves room to move; at most 2 so rendering never skips pixels.
    z0 = min(rng.uniform(1.0, 1.6), 0.8 * min(src_hw) / (2 * half_diag * zoom_gain.max()), 2.0)
    zoom = z0 * zoom_gain
    angle = rng.uniform(-0.1, 0.1) + rng.uniform(-0.01, 0.01) * t
    heading = rng.uniform(0, 2 * math.pi)
    speed = rng.uniform(0.5, 3.0)  # output pixels per frame
    accel = rng.uniform(-0.05, 0.05, size=2)
    wobble_amp, wobble_freq, wobble_phase = (
        rng.uniform(0.2, 1.0),
        rng.uniform(0.2, 0.8),
        rng.uniform(0, 6.3),
    )
    wobble = wobble_amp * np.sin(wobble_freq * t + wobble_phase)
    dx = speed * math.cos(heading) * t + 0.5 * accel[0] * t**2 + wobble
    dy = speed * math.sin(heading) * t + 0.5 * accel[1] * t**2 - wobble
    extent = half_diag * zoom
    src_h, src_w = src_hw
    for _ in range(20):  # halve the motion until the whole path fits
        ox, oy = dx * z0, dy * z0
        lo_x, hi_x = np.max(extent - ox), np.min(src_w - extent - ox)
        lo_y, hi_y = np.max(extent - oy), np.min(src_h - extent - oy)
        if lo_x <= hi_x and lo_y <= hi_y:
            break
        dx, dy = dx / 2, dy / 2
    else:
        raise ValueError(f"output size {size} does not fit in a {src_h}x{src_w} source")
    cx, cy = rng.uniform(lo_x, hi_x) + ox, rng.uniform(lo_y, hi_y) + oy
    return list(zip(cx.tolist(), cy.tolist(), zoom.tolist(), angle.tolist()))


def _render(
    src: np.ndarray, size: tuple[int, int], cx: float, cy: float, zoom: float, angle: float
) -> np.ndarray:
    """One frame: bicubic warp at the supersampled size, then area-average down to ``size``."""
    height, width = size
    step = zoom / _SUPERSAMPLE  # source pixels per rendered pixel
    cos, sin = math.cos(angle) * step, math.sin(angle) * step
    a = np.array([[cos, -sin], [sin, cos]])
    centre = np.array([width * _SUPERSAMPLE, height * _SUPERSAMPLE]) / 2
    offset = np.array([cx, cy]) - a @ centre
    matrix = np.hstack([a, offset[:, None]])
    big = cv2.warpAffine(
        src,
        matrix,
        (width * _SUPERSAMPLE, height * _SUPERSAMPLE),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT_101,
    )
    return cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA)


def make_motion_clips(
    out_root: str | os.PathLike,
    num_clips: int,
    num_frames: int,
    size: tuple[int, int] = (128, 128),
    seed: int = 0,
    split: str = "train",
) -> list[Path]:
    """Write ``num_clips`` clips of ``num_frames`` frames (H, W = ``size``) as
    ``out_root/<clip>/00000000.png ...`` and return the clip folders.

    Deterministic in (seed, split, clip index): clip ``i`` is the same whatever ``num_clips`` is.
    Photographs are used in turn from the split's list. Each clip folder is written beside its
    final place and renamed into it, so an interrupted run never leaves a half-written clip.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    images = SPLITS[split]
    split_id = list(SPLITS).index(split)
    photos: dict[str, np.ndarray] = {}
    folders = []
    for i in range(num_clips):
        name = images[i % len(images)]
        if name not in photos:
            photos[name] = _shrink(load_photo(name), size)
        rng = np.random.default_rng([seed, split_id, i])
        path = _trajectory(rng, num_frames, size, photos[name].shape[:2])
        folder = out_root / f"{split}_{i:03d}_{name}"
        tmp = Path(tempfile.mkdtemp(dir=out_root, prefix=f".{folder.name}."))
        try:
            for t, pose in enumerate(path):
                write_image(tmp / f"{t:08d}.png", _render(photos[name], size, *pose))
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        folders.append(folder)
    return folders


def _shrink(photo: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-downsample large photographs so a window spans about a third of the shorter side:
    the motion then covers real content, and zoom (source px per output px) stays <= 2."""
    factor = min(1.0, 3.0 * max(size) / min(photo.shape[:2]))
    if factor >= 1.0:
        return photo
    new_wh = (round(photo.shape[1] * factor), round(photo.shape[0] * factor))
    return cv2.resize(photo, new_wh, interpolation=cv2.INTER_AREA)
