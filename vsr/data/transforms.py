"""Paired augmentations for video clips: random crop, flips, transpose, temporal reverse.

Every function takes clips as tensors shaped (T, C, H, W) of any dtype, so cropping and flipping
can run on uint8 frames before the (costlier) float conversion. Randomness comes only from the
numpy Generator passed in, which keeps samples reproducible from ``(index, seed)`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


def frames_to_tensor(frames: list[np.ndarray]) -> Tensor:
    """Stack uint8 RGB frames (H, W, 3) into a uint8 (T, C, H, W) view without copying twice."""
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)


def to_float(clip: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
    """uint8 clip to contiguous float in [0, 1]. Degradations get float64, where k/255 is exact
    enough for their uint8 rounding to match the published LR files bit for bit."""
    return clip.to(dtype).div_(255.0).contiguous()


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def random_crop_box(
    height: int,
    width: int,
    patch_size: int | tuple[int, int],
    rng: np.random.Generator,
    step: int = 1,
) -> tuple[int, int, int, int]:
    """Pick a (top, left, patch_h, patch_w) box whose corner lies on a ``step``-pixel grid.

    The grid keeps a GT crop aligned with the LR pixel grid (step = scale), so a crop of a
    degraded frame and the degradation of a crop line up.
    """
    patch_h, patch_w = _pair(patch_size)
    if patch_h > height or patch_w > width:
        raise ValueError(f"patch {patch_h}x{patch_w} is larger than the frame {height}x{width}")
    top = int(rng.integers(0, (height - patch_h) // step + 1)) * step
    left = int(rng.integers(0, (width - patch_w) // step + 1)) * step
    return top, left, patch_h, patch_w


def paired_random_crop(
    lr: Tensor,
    gt: Tensor,
    gt_patch_size: int | tuple[int, int],
    scale: int,
    rng: np.random.Generator,
) -> tuple[Tensor, Tensor]:
    """Crop the same region from an LR clip and its GT clip (GT patch = LR patch x scale)."""
    patch_h, patch_w = _pair(gt_patch_size)
    if patch_h % scale or patch_w % scale:
        raise ValueError(f"GT patch {patch_h}x{patch_w} is not divisible by scale {scale}")
    lr_h, lr_w = lr.shape[-2:]
    if (lr_h * scale, lr_w * scale) != tuple(gt.shape[-2:]):
        raise ValueError(
            f"LR clip {lr_h}x{lr_w} x{scale} does not match GT clip {gt.shape[-2]}x{gt.shape[-1]}"
        )
    top, left, lp_h, lp_w = random_crop_box(lr_h, lr_w, (patch_h // scale, patch_w // scale), rng)
    lr = lr[..., top : top + lp_h, left : left + lp_w]
    gt = gt[..., top * scale : (top + lp_h) * scale, left * scale : (left + lp_w) * scale]
    return lr, gt


@dataclass(frozen=True)
class Augment:
    """One draw of the geometric/temporal augmentations, applied identically to every clip."""

    hflip: bool = False
    vflip: bool = False
    transpose: bool = False
    reverse: bool = False

    @classmethod
    def sample(
        cls,
        rng: np.random.Generator,
        hflip: float = 0.5,
        vflip: float = 0.0,
        transpose: float = 0.0,
        reverse: float = 0.0,
    ) -> Augment:
        """Draw each flag with its probability; always four draws, so enabling one augmentation
        does not shift the random stream of the others."""
        u = rng.random(4)
        return cls(
            bool(u[0] < hflip), bool(u[1] < vflip), bool(u[2] < transpose), bool(u[3] < reverse)
        )

    def __call__(self, clip: Tensor) -> Tensor:
        """Apply to a (T, C, H, W) clip; flip + transpose together give all 8 rotations/flips."""
        if self.hflip:
            clip = clip.flip(-1)
        if self.vflip:
            clip = clip.flip(-2)
        if self.transpose:
            clip = clip.transpose(-1, -2)
        if self.reverse:
            clip = clip.flip(0)
        return clip
