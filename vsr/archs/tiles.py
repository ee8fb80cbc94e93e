"""Spatial tiles for every arch: overlapping LR tiles, each run as its own ``stream`` (so each
tile is a small video in the arch's own temporal mode, recurrent state carried per tile), all
advanced in lock-step frame by frame and stitched at HR.

Layout, per axis: tiles of ``size`` LR px starting every ``size - overlap`` px, the last one
moved back to end at the frame border (so it may share more than ``overlap`` px with its
neighbour); an axis not longer than ``size`` is one tile.

Window: over the ``L`` px two neighbouring tiles share, each tile's weight is 0 on the quarter of
``L`` next to its own edge (where its zero/reflect padding differs from the whole frame), a linear
ramp over the middle half, 1 beyond (``vsr.archs.blend.rising_weights``, scaled to HR); a tile's
2-D weight is the product of its row and column weights. The output is the running weighted mean
``out.lerp_(tile, w / (sum of weights so far))`` over the tiles, which is the normalised weighted
mean and returns a constant image — and any pixel that every weighted tile computes alike — bit
for bit.

Per-frame conditions: refused. The one arch declaring them, FOCAS, reads its gaze in whole-frame
HR pixels and scales its foveal regions with the frame height, so a tile is not a smaller frame
for it; translating the gaze alone would change what it computes.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from vsr.archs.blend import rising_weights
from vsr.archs.precision import Precision
from vsr.archs.sequence import ChunkSpec, FrameTimer, SequenceStart, stream


@dataclass(frozen=True)
class TileSpec:
    """Tiles of ``size`` (h, w) LR px sharing ``overlap`` LR px with each neighbour."""

    size: tuple[int, int]
    overlap: int = 16

    def __post_init__(self) -> None:
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"tile size must be two positive LR sizes [h, w], got {self.size}")
        if not 0 <= self.overlap < min(self.size):
            raise ValueError(f"tile overlap must be in [0, {min(self.size)}) for {self.size} "
                             f"tiles, got {self.overlap}")

    def describe(self) -> dict:
        return {"size": list(self.size), "overlap": self.overlap}


def tile_starts(length: int, size: int, overlap: int) -> list[int]:
    """LR start of every tile along an axis of ``length`` px."""
    if length <= size:
        return [0]
    return [*range(0, length - size, size - overlap), length - size]


def axis_weights(length: int, size: int, overlap: int, scale: int) -> list[tuple[slice, Tensor]]:
    """(HR slice, HR weights) of every tile along an axis, by the window of the module doc."""
    size = min(size, length)
    starts = tile_starts(length, size, overlap)
    out = []
    for k, start in enumerate(starts):
        w = torch.ones(size * scale)
        if k > 0:
            shared = starts[k - 1] + size - start
            w[: shared * scale] *= rising_weights(shared * scale, shared // 4 * scale)
        if k + 1 < len(starts):
            shared = start + size - starts[k + 1]
            w[size * scale - shared * scale:] *= rising_weights(shared * scale,
                                                                shared // 4 * scale).flip(0)
        out.append((slice(start * scale, (start + size) * scale), w))
    return out


class _Layout:
    """The tiles of one frame size: LR crops, HR regions and the per-tile lerp ratios."""

    def __init__(self, lr_size: tuple[int, int], spec: TileSpec, scale: int) -> None:
        rows = axis_weights(lr_size[0], spec.size[0], spec.overlap, scale)
        cols = axis_weights(lr_size[1], spec.size[1], spec.overlap, scale)
        for axis, weights, length in (("rows", rows, lr_size[0]), ("columns", cols, lr_size[1])):
            total = torch.zeros(length * scale)
            for region, w in weights:
                total[region] += w
            if not bool((total > 0).all()):  # unreachable for overlap < size; kept as a guard
                raise ValueError(f"tiles {spec.size} with overlap {spec.overlap} leave {axis} of "
                                 f"a {lr_size} frame without weight")
        self.hr_size = (lr_size[0] * scale, lr_size[1] * scale)
        self.scale = scale
        self.regions: list[tuple[slice, slice]] = []
        self.ratios: list[Tensor] = []
        seen = torch.zeros(self.hr_size)
        for ys, wy in rows:
            for xs, wx in cols:
                w = wy[:, None] * wx[None, :]
                seen[ys, xs] += w
                total = seen[ys, xs]
                self.ratios.append(torch.where(total > 0, w / total.clamp_min(1e-12), 0.0)[None])
                self.regions.append((ys, xs))

    def lr_crops(self) -> list[tuple[slice, slice]]:
        s = self.scale
        return [(slice(ys.start // s, ys.stop // s), slice(xs.start // s, xs.stop // s))
                for ys, xs in self.regions]

    def merge(self, out: Tensor, k: int, tile: Tensor) -> None:
        """Folds tile ``k`` into ``out`` (all earlier tiles already merged)."""
        ys, xs = self.regions[k]
        out[:, ys, xs].lerp_(tile, self.ratios[k].to(tile.dtype))

    def stitch(self, tiles: list[Tensor]) -> Tensor:
        out = tiles[0].new_zeros(tiles[0].shape[0], *self.hr_size)
        for k, tile in enumerate(tiles):
            self.merge(out, k, tile)
        return out


class _Splitter:
    """Reads the LR frames once and hands each tile its crops, reading on only when the tile
    that asks has none queued (so the read-ahead is that of one tile's stream)."""

    def __init__(self, first: Tensor, rest: Iterator[Tensor], crops: list[tuple[slice, slice]]):
        self.size = tuple(first.shape[-2:])
        self.rest, self.crops = rest, crops
        self.queues: list[deque[Tensor]] = [deque() for _ in crops]
        self.read = 0
        self._push(first)

    def _push(self, frame: Tensor) -> None:
        if tuple(frame.shape[-2:]) != self.size:
            raise ValueError(f"LR frame {self.read} is {tuple(frame.shape[-2:])}, frame 0 is "
                             f"{self.size}: tiling needs one frame size per clip")
        for queue, (ys, xs) in zip(self.queues, self.crops):
            queue.append(frame[:, ys, xs])
        self.read += 1

    def frames_of(self, k: int) -> Iterator[Tensor]:
        queue = self.queues[k]
        while True:
            if not queue:
                frame = next(self.rest, None)
                if frame is None:
                    return
                self._push(frame)
            yield queue.popleft()


def stream_tiled(
    arch: nn.Module,
    frames: Iterable[Tensor],
    tile: TileSpec | None,
    device: torch.device | str = "cpu",
    batch_frames: int = 8,
    chunk: int | ChunkSpec = 16,
    conditions: Iterable[dict] | None = None,
    timer: FrameTimer | None = None,
    precision: Precision | None = None,
    start: SequenceStart | None = None,
) -> Iterator[Tensor]:
    """``stream`` of the whole frame when ``tile`` is None, else of tiles stitched at HR (each
    tile's stream starts its sequence by ``start``, as the whole frame would).

    Tiled frame archs run one frame per call per tile (``batch_frames`` is not used), so memory
    holds one frame of tiles; ``timer`` gets per frame the sum of its tiles' model times plus
    the stitching."""
    if tile is None:
        return stream(arch, frames, device, batch_frames, chunk, conditions, timer,
                      start=start, precision=precision)
    declared = tuple(getattr(arch, "conditions", ()))
    if declared:
        raise ValueError(f"{type(arch).__name__} takes per-frame conditions {declared} in "
                         f"whole-frame coordinates; it cannot run on tiles (run it untiled)")
    return _tiled(arch, iter(frames), tile, device, chunk, timer, precision, start)


def _tiled(arch, frames: Iterator[Tensor], tile: TileSpec, device, chunk, timer,
           precision, start) -> Iterator[Tensor]:
    first = next(frames, None)
    if first is None:
        return
    layout = _Layout(tuple(first.shape[-2:]), tile, arch.scale)
    crops = layout.lr_crops()
    splitter = _Splitter(first, frames, crops)
    timers = [FrameTimer() for _ in crops]
    streams = [stream(arch, splitter.frames_of(k), device, 1, chunk, timer=timers[k],
                      precision=precision, start=start) for k in range(len(crops))]
    for index in itertools.count():
        stitching = 0.0
        frame = None
        for k, s in enumerate(streams):  # each tile is merged as soon as it is computed
            out = next(s, None)
            if out is None:
                return
            ys, xs = layout.regions[k]
            wanted = (ys.stop - ys.start, xs.stop - xs.start)
            if tuple(out.shape[-2:]) != wanted:
                raise ValueError(f"{type(arch).__name__} (scale {arch.scale}) gave a "
                                 f"{tuple(out.shape[-2:])} tile for {wanted}: its output is not "
                                 f"scale x its input")
            start = time.perf_counter()
            if frame is None:
                frame = out.new_zeros(out.shape[0], *layout.hr_size)
            layout.merge(frame, k, out)
            stitching += time.perf_counter() - start
            del out
        if timer is not None:
            timer.seconds.append(sum(t.seconds[index] for t in timers) + stitching)
        yield frame
