"""Evaluation protocols: the choices that make metric numbers comparable or not.

Published tables differ in channel, Y formula, spatial crop, skipped frames, whether the output
was quantised to 8 bit (MODELS.md §7.3) and how frame values become one number per set. A
:class:`Protocol` names the per-frame choices and an :class:`Averaging` the pooling; both
``describe()`` themselves next to every number we report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from torch import Tensor

from vsr.io.color import Y_FORMULAS

CHANNELS = ("rgb", "y")
AVERAGINGS = ("clip", "frame", "segment")


def crop_8x8_box(height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, h, w) of TecoGAN's ``crop_8x8`` (official_metrics, MODELS.md §3.6).

    Each side is the largest multiple of 32 that leaves at least 8 px on both ends
    (32·⌊H/32⌋, less 32 while it exceeds H − 16); the offset is ⌊(H − h)/2⌋, so an odd excess
    leaves the extra pixel at the bottom / right.
    """
    sides = []
    for size in (height, width):
        side = size // 32 * 32
        while side > size - 16:
            side -= 32
        if side <= 0:
            raise ValueError(f"crop_8x8 needs frames of at least 48x48, got {height}x{width}")
        sides.append(side)
    h, w = sides
    return (height - h) // 2, (width - w) // 2, h, w


@dataclass(frozen=True)
class Protocol:
    """How a metric turns an (SR, GT) frame pair into the numbers a paper reports.

    ``skip_first``/``skip_last`` are applied by the evaluator (``scores_frame``); ``channel``,
    ``y_formula``, ``round_to_8bit`` and the spatial crop (``crop``) by the metric. The crop is
    one of: ``crop_border`` px off every side, TecoGAN's ``crop_8x8``, or ``crop_sides`` =
    (top, bottom, left, right) px — e.g. NVVL VSRNet's validation ``[:, :, 12:, :-12]`` is
    ``(12, 0, 0, 12)``, 12 px at the top and right only, where Makansi et al. meant a symmetric
    12-px border (``crop_border: 12``).
    """

    channel: str = "y"
    y_formula: str = "matlab"
    crop_border: int = 0
    crop_8x8: bool = False
    crop_sides: tuple[int, int, int, int] | None = None
    skip_first: int = 0
    skip_last: int = 0
    round_to_8bit: bool = False

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}; expected one of {CHANNELS}")
        if self.y_formula not in Y_FORMULAS:
            raise ValueError(
                f"unknown y_formula {self.y_formula!r}; expected one of {sorted(Y_FORMULAS)}"
            )
        for name in ("crop_border", "skip_first", "skip_last"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.crop_8x8 and self.crop_border:
            raise ValueError("give crop_border or crop_8x8, not both (no published protocol "
                             f"uses both; got crop_border={self.crop_border})")
        if self.crop_sides is not None:
            if self.crop_8x8 or self.crop_border:
                raise ValueError("give one of crop_border, crop_8x8 and crop_sides, got "
                                 f"crop_sides={self.crop_sides} with crop_border="
                                 f"{self.crop_border}, crop_8x8={self.crop_8x8}")
            if len(self.crop_sides) != 4 or min(self.crop_sides) < 0:
                raise ValueError("crop_sides must be four px counts >= 0 (top, bottom, left, "
                                 f"right), got {self.crop_sides}")

    def crop_box(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(top, left, h, w) of the region scored in a ``height`` × ``width`` frame."""
        if self.crop_8x8:
            return crop_8x8_box(height, width)
        if self.crop_sides is not None:
            top, bottom, left, right = self.crop_sides
            if height <= top + bottom or width <= left + right:
                raise ValueError(f"crop_sides {tuple(self.crop_sides)} leaves nothing of a "
                                 f"{height}x{width} frame")
            return top, left, height - top - bottom, width - left - right
        c = self.crop_border
        if height <= 2 * c or width <= 2 * c:
            raise ValueError(f"crop_border {c} leaves nothing of a {height}x{width} frame")
        return c, c, height - 2 * c, width - 2 * c

    def crop(self, x: Tensor) -> Tensor:
        """The scored region of ``x`` (..., H, W)."""
        top, left, h, w = self.crop_box(*x.shape[-2:])
        return x[..., top : top + h, left : left + w]

    def scores_frame(self, index: int, num_frames: int) -> bool:
        """Whether frame ``index`` of a ``num_frames``-frame clip is scored (ends skipped)."""
        return self.skip_first <= index < num_frames - self.skip_last

    def describe(self) -> str:
        """One line for results tables, e.g. ``Y(matlab), crop 8 px, all frames, float``."""
        channel = f"Y({self.y_formula})" if self.channel == "y" else "RGB"
        if self.crop_8x8:
            crop = "crop_8x8 (centred, multiple of 32, >= 8 px each side)"
        elif self.crop_sides is not None:
            top, bottom, left, right = self.crop_sides
            crop = f"crop top {top}, bottom {bottom}, left {left}, right {right} px"
        else:
            crop = f"crop {self.crop_border} px" if self.crop_border else "no crop"
        if self.skip_first or self.skip_last:
            frames = f"frames skip first {self.skip_first}, last {self.skip_last}"
        else:
            frames = "all frames"
        rounding = "uint8" if self.round_to_8bit else "float"
        return f"{channel}, {crop}, {frames}, {rounding}"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


@dataclass(frozen=True)
class Averaging:
    """How the values of a set become its number.

    ``clip``: mean over the frames of each clip, then over clips (RRN, TecoGAN's "folder avg").
    ``frame``: mean over all frames of the set (TecoGAN's "total avg"); a metric with one value
    per clip counts it once per frame it was given. ``segment``: mean over each
    ``segment_frames``-frame segment of a clip (frames 0..n-1, n..2n-1, ...; the last may be
    shorter), then over its segments, then over clips (FOCAS, MODELS.md §2.6).
    """

    mode: str = "clip"
    segment_frames: int = 50

    def __post_init__(self) -> None:
        if self.mode not in AVERAGINGS:
            raise ValueError(f"unknown averaging {self.mode!r}; expected one of {AVERAGINGS}")
        if self.segment_frames < 1:
            raise ValueError(f"segment_frames must be >= 1, got {self.segment_frames}")

    def describe(self) -> str:
        if self.mode == "frame":
            return "mean over all frames of the set"
        if self.mode == "segment":
            return (f"mean over frames per {self.segment_frames}-frame segment, then over "
                    "segments per clip, then over clips")
        return "mean over frames per clip, then mean over clips"

    def segment_means(self, values: Sequence[float | None]) -> list[float]:
        """Mean of the scored values of each segment; segments with none are left out."""
        n = self.segment_frames
        segments = ([v for v in values[i : i + n] if v is not None]
                    for i in range(0, len(values), n))
        return [_mean(s) for s in segments if s]

    def clip_value(self, values: Sequence[float | None]) -> float:
        """A clip's value from its per-frame values (``None`` = not scored)."""
        if self.mode == "segment":
            return _mean(self.segment_means(values))
        return _mean([v for v in values if v is not None])

    def over_clips(self, clips: Sequence[tuple[float, int]]) -> float:
        """The set's value from (clip value, frames scored) pairs."""
        if self.mode == "frame":
            counted = [(v, n) for v, n in clips if n > 0]
            total = sum(n for _, n in counted)
            return sum(v * n for v, n in counted) / total if total else math.nan
        return _mean([v for v, _ in clips])
