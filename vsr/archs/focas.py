"""FOCAS (Wang et al., ACM MM 2021): RRN with a gaze-centred cascade of deeper trunk regions.

FOCAS changes only inference: with the RRN weights unchanged, the first ``blocks[0]`` residual
blocks run on the whole frame and each nested region around the gaze runs the next blocks on a
crop. The results are blended back with ramped masks, innermost first, and the heads run on the
full-size map, so the hidden state and the fed-back output stay full-frame.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from vsr.archs.base import FirstPrev, TemporalMode
from vsr.archs.rrn import RRNState, RRNTrunk
from vsr.io.overlay import draw_boxes_and_point
from vsr.registry import ARCHS

FULL_HD = (1080, 1920)

FOCAS_PRESETS: dict[str, dict[str, list]] = {
    "RRN10": {"blocks": [10], "regions": [FULL_HD]},
    "FOCAS15": {"blocks": [1, 4, 10], "regions": [FULL_HD, (224, 224), (128, 128)]},
    "FOCAS16": {"blocks": [1, 8, 10], "regions": [FULL_HD, (256, 256), (224, 224)]},
    "FOCAS17": {"blocks": [1, 4, 10], "regions": [FULL_HD, (368, 368), (288, 288)]},
    "FOCAS20": {"blocks": [1, 8, 10], "regions": [FULL_HD, (448, 448), (416, 416)]},
    "FOCAS25": {"blocks": [1, 3, 10], "regions": [FULL_HD, (824, 824), (544, 544)]},
}
"""The published configurations for 1080p input (``focas_generator(name, 'HD')``); used through
``FOCAS(preset=...)`` their regions scale with the input height."""

_RAMP = (0.2, 0.4, 0.6, 0.8, 1.0)


def focas_preset(name: str) -> dict[str, list]:
    """``blocks`` and ``regions`` of a published FOCAS model, as FOCAS keyword arguments."""
    if name not in FOCAS_PRESETS:
        raise ValueError(f"unknown FOCAS preset '{name}'; known: {', '.join(FOCAS_PRESETS)}")
    return copy.deepcopy(FOCAS_PRESETS[name])


def scale_region_side(side: int, height: int, reference_height: int = FULL_HD[0],
                      multiple: int = 8) -> int:
    """A region side designed for ``reference_height`` frames, scaled to ``height`` frames.

    Scaling with the height keeps the region's share of a height-fitted display, hence its visual
    angle around the gaze; the result is a multiple of ``multiple`` (2·scale keeps the LR side
    even) and at least one multiple, so a 1080p side is unchanged at 1080p.
    """
    return max(multiple, round(side * height / reference_height / multiple) * multiple)


@dataclass(frozen=True)
class Crop:
    """Where one inner region sits in its parent map, and which part of its mask survives.

    ``feat`` is (up, down, left, right) in the parent's coordinates; ``mask`` is the same
    (top, bottom, left, right) slice of the full-size region mask, smaller when clamped.
    """

    feat: tuple[int, int, int, int]
    mask: tuple[int, int, int, int]


def compute_crops(
    frame: tuple[int, int], gaze: tuple[int, int], regions: Sequence[tuple[int, int]]
) -> list[Crop]:
    """Nested crops of ``regions`` around ``gaze``, all in LR feature pixels.

    Each region is centred on the gaze and clamped to its parent; gaze and parent extent are then
    re-expressed relative to the crop. As in the original, the parent extent is shifted by the
    crop origin but not shrunk to the crop size, which only matters for non-nested regions.
    """
    height, width = frame
    h, w = gaze
    crops = []
    for size_h, size_w in regions:
        up, up_short = _clamp_low(h - size_h // 2)
        left, left_short = _clamp_low(w - size_w // 2)
        down, down_short = _clamp_high(h + size_h // 2, height)
        right, right_short = _clamp_high(w + size_w // 2, width)
        mask = (up_short, size_h + down_short, left_short, size_w + right_short)
        crops.append(Crop(feat=(up, down, left, right), mask=mask))
        h, w, height, width = h - up, w - left, height - up, width - left
    return crops


def _clamp_low(side: int) -> tuple[int, int]:
    """A start clamped at 0 and how much was cut off (>= 0)."""
    return (side, 0) if side >= 0 else (0, -side)


def _clamp_high(side: int, limit: int) -> tuple[int, int]:
    """An end clamped at ``limit`` and the (<= 0) amount cut off."""
    return (side, 0) if side <= limit else (limit, limit - side)


def blending_mask(height: int, width: int) -> Tensor:
    """(H, W) ramp 0.2, 0.4, 0.6, 0.8 on the four outer rings and 1.0 inside.

    It fades an inner region's deeper features into the shallower ones around it.
    """
    rows = torch.arange(height)
    cols = torch.arange(width)
    to_edge_h = torch.minimum(rows, height - 1 - rows)
    to_edge_w = torch.minimum(cols, width - 1 - cols)
    ring = torch.minimum(to_edge_h[:, None], to_edge_w[None, :]).clamp(max=len(_RAMP) - 1)
    return torch.tensor(_RAMP)[ring]


def lr_region(region: Sequence[int], scale: int) -> tuple[int, int]:
    """HR region size to LR feature size, rounded down to even so it centres on the gaze."""
    return (region[0] // scale // 2 * 2, region[1] // scale // 2 * 2)


class FocasState(NamedTuple):
    """RRN's recurrent state plus the frame's position in its segment (for the schedule)."""

    rrn: RRNState | None
    index: int


@ARCHS.register("FOCAS")
class FOCAS(nn.Module):
    """Foveated cascaded RRN for inference; state-dict keys are exactly RRN's.

    ``blocks`` gives the cumulative trunk depth per region and ``regions`` the (H, W) of each region
    in HR pixels. Element 0 of ``regions`` stands for the whole input frame whatever its value
    (a size or a label such as ``"full"``), so one configuration runs at any resolution. Inner
    regions are exact HR pixels unless ``reference_height`` names the frame height they were
    designed for: then they scale with the input's height (``scale_region_side``). ``preset``
    (a name in ``FOCAS_PRESETS``) stands for the published 1080p blocks and regions and implies
    ``reference_height: 1080``, so a preset fits any input size and is exact at 1080p.

    The inference schedule of infer_rec.py / infer_non_rec.py (MODELS.md §2.3): in each cycle the
    first ``full_frames`` frames run the whole trunk on the full frame (RRN-10L) and the next
    ``foveated_frames`` the cascade; ``segment`` restarts recurrence and the cycle every that
    many frames: the segment's first step starts from zero state but, as the original's segment
    slices carry one leading LR frame, still pairs the previous LR frame with the current one
    (only a clip's very first frame is its own previous frame); ``recurrent: false`` starts every
    frame from zero state (non-recurrent FOCAS), so there segments only restart the cycle.
    """

    temporal: TemporalMode = "recurrent"
    first_prev: FirstPrev = "same"
    conditions = ("gaze",)

    def __init__(
        self,
        scale: int = 4,
        num_channels: int = 128,
        num_blocks: int = 10,
        blocks: Sequence[int] | None = None,
        regions: Sequence[Sequence[int] | str] | None = None,
        preset: str | None = None,
        reference_height: int | None = None,
        full_frames: int = 0,
        foveated_frames: int = 1,
        segment: int | None = None,
        recurrent: bool = True,
    ) -> None:
        super().__init__()
        if full_frames < 0 or foveated_frames < 0 or full_frames + foveated_frames == 0:
            raise ValueError(f"FOCAS schedule needs full_frames, foveated_frames >= 0 and not "
                             f"both 0, got {full_frames}, {foveated_frames}")
        if segment is not None and segment < 1:
            raise ValueError(f"FOCAS segment must be >= 1 frames, got {segment}")
        self.full_frames, self.foveated_frames = full_frames, foveated_frames
        self.segment, self.recurrent = segment, recurrent
        if preset is not None:
            if blocks is not None or regions is not None:
                raise ValueError("FOCAS takes either a preset or blocks and regions, not both")
            chosen = focas_preset(preset)
            blocks, regions = chosen["blocks"], chosen["regions"]
            reference_height = reference_height or FULL_HD[0]
        blocks = [int(b) for b in blocks or (10,)]
        regions = list(regions or ("full",))
        if len(blocks) != len(regions) or not blocks:
            raise ValueError(f"FOCAS needs one depth per region, got {blocks} and {regions}")
        if blocks[0] < 0 or blocks[-1] > num_blocks or blocks != sorted(set(blocks)):
            raise ValueError(f"FOCAS blocks {blocks} must increase strictly within 0..{num_blocks}")
        if reference_height is not None and reference_height < 1:
            raise ValueError(f"FOCAS reference_height must be >= 1 px, got {reference_height}")
        self.scale = scale
        self.blocks = blocks
        self.inner_regions = [tuple(int(side) for side in r) for r in regions[1:]]
        self.reference_height = reference_height
        if any(min(lr_region(r, scale)) < 2 for r in self.inner_regions):
            raise ValueError(f"FOCAS regions {regions[1:]} must be at least {2 * scale} HR px")
        self.neuro = RRNTrunk(scale, num_channels, num_blocks)
        self._masks: dict[tuple, Tensor] = {}

    def lr_regions(self, frame: tuple[int, int]) -> list[tuple[int, int]]:
        """LR feature sizes of the inner regions for an LR ``frame``: as given in HR pixels, or,
        with a ``reference_height``, scaled from that height to the frame's."""
        regions = self.inner_regions
        if self.reference_height is not None:
            height = frame[0] * self.scale
            regions = [tuple(scale_region_side(side, height, self.reference_height, 2 * self.scale)
                             for side in r) for r in regions]
        return [lr_region(r, self.scale) for r in regions]

    def blend_mask(self, height: int, width: int, like: Tensor) -> Tensor:
        """The (1, 1, H, W) blending mask of a region, cached per size, device and dtype."""
        key = (height, width, like.device, like.dtype)
        if key not in self._masks:
            self._masks[key] = blending_mask(height, width)[None, None].to(like)
        return self._masks[key]

    def lr_gaze(self, frame: tuple[int, int], gaze: tuple[int, int] | None) -> tuple[int, int]:
        """An HR-pixel ``gaze`` in LR ``frame`` pixels: the centre when there is none, moved
        onto the border when it is off the frame."""
        height, width = frame
        if gaze is None:
            return height // 2, width // 2
        return (min(max(int(gaze[0]) // self.scale, 0), height),
                min(max(int(gaze[1]) // self.scale, 0), width))

    def crops(self, frame: tuple[int, int], gaze: tuple[int, int] | None) -> list[Crop]:
        """Crops of the inner regions for an LR ``frame`` size and an HR-pixel ``gaze``."""
        return compute_crops(frame, self.lr_gaze(frame, gaze), self.lr_regions(frame))

    def region_boxes(
        self, lr_size: tuple[int, int], gaze: tuple[int, int] | None
    ) -> list[tuple[int, int, int, int]]:
        """(top, left, bottom, right) in HR pixels of each inner region for this gaze; crops are
        nested, so each one's offsets add to its parent's."""
        boxes = []
        top = left = 0
        s = self.scale
        for crop in self.crops(lr_size, gaze):
            up, down, c_left, c_right = crop.feat
            top, left = top + up, left + c_left
            boxes.append((top * s, left * s, (top + down - up) * s, (left + c_right - c_left) * s))
        return boxes

    def overlay(self, frame: np.ndarray, gaze: tuple[int, int] | None = None) -> np.ndarray:
        """The uint8 RGB SR ``frame`` with the gaze and the regions run for it drawn on."""
        lr_size = (frame.shape[0] // self.scale, frame.shape[1] // self.scale)
        return draw_boxes_and_point(frame, self.region_boxes(lr_size, gaze), gaze)

    def runs_full(self, frame: int) -> bool:
        """Whether the schedule runs the whole trunk on the full frame at clip frame ``frame``."""
        position = frame % self.segment if self.segment is not None else frame
        return position % (self.full_frames + self.foveated_frames) < self.full_frames

    def step(
        self,
        lr_prev: Tensor,
        lr_curr: Tensor,
        state: FocasState | None = None,
        gaze: tuple[int, int] | None = None,
    ) -> tuple[Tensor, FocasState]:
        """SR of ``lr_curr``: the whole trunk on full-frame steps of the schedule, else the
        cascade, deepest around ``gaze`` (h, w) in HR pixels."""
        index = self._segment_position(state)
        rrn_state = state.rrn if index > 0 and self.recurrent else None
        sr, rrn_state = self._cascade(lr_prev, lr_curr, rrn_state, gaze, self.runs_full(index))
        return sr, FocasState(rrn_state, index)

    def _segment_position(self, state: FocasState | None) -> int:
        """This step's position in its segment; 0 starts a segment (zero state, cycle restart).

        The original slices each segment with one leading LR frame, so only the state restarts:
        a later segment's first step still pairs the real previous frame with its current one.
        """
        index = 0 if state is None else state.index + 1
        return 0 if self.segment is not None and index == self.segment else index

    def _cascade(
        self,
        lr_prev: Tensor,
        lr_curr: Tensor,
        state: RRNState | None,
        gaze: tuple[int, int] | None,
        full: bool,
    ) -> tuple[Tensor, RRNState]:
        neuro = self.neuro
        feat = neuro.features(lr_prev, lr_curr, state)
        if full:
            return neuro.heads(neuro.blocks(feat, 0, len(neuro.recon_trunk)), lr_curr)
        levels = [neuro.blocks(feat, 0, self.blocks[0])]
        frame = feat.shape[-2:]
        sizes = self.lr_regions(frame)
        crops = compute_crops(frame, self.lr_gaze(frame, gaze), sizes)
        for i, crop in enumerate(crops):
            up, down, left, right = crop.feat
            inner = levels[-1][..., up:down, left:right]
            levels.append(neuro.blocks(inner, self.blocks[i], self.blocks[i + 1]))
        for i in reversed(range(len(crops))):
            up, down, left, right = crops[i].feat
            top, bottom, m_left, m_right = crops[i].mask
            mask = self.blend_mask(*sizes[i], like=feat)[..., top:bottom, m_left:m_right]
            # Autograd saved the parent map for the crop's first conv: blend into a copy then.
            outer = levels[i].clone() if torch.is_grad_enabled() else levels[i]
            region = outer[..., up:down, left:right]
            outer[..., up:down, left:right] = levels[i + 1] * mask + region * (1 - mask)
            levels[i] = outer
        return neuro.heads(levels[0], lr_curr)
