"""The only loops that run an arch over time, for every temporal mode (see ``vsr.archs.base``).

``run_clip`` computes a whole (N, T, C, H, W) clip at once and is differentiable (training,
validation of short clips). ``stream`` yields SR frames one at a time from an iterator of LR frames
in bounded memory (evaluation and inference of arbitrarily long videos): recurrent state is carried
from frame to frame and windows slide over a small buffer, giving exactly the frames of
``run_clip``; clip models run on overlapping temporal chunks (``ChunkSpec``), which approximates a
whole-clip pass for bidirectional models.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from vsr.archs.blend import rising_weights
from vsr.archs.precision import Precision, to_output


class FrameTimer:
    """Model time per output frame, excluding data loading and IO; CUDA is synchronised before
    each clock read so asynchronous kernels are counted where they run."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def run(self, frames: int, fn, *args, **kwargs):
        _sync()
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        _sync()
        self.seconds.extend([(time.perf_counter() - start) / frames] * frames)
        return out


class _Untimed:
    def run(self, frames: int, fn, *args, **kwargs):
        return fn(*args, **kwargs)


def _sync() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


class _Calls:
    """Every model call of a stream: inputs in the precision's layout, the call under its
    autocast, timed by the clock."""

    def __init__(self, clock, precision: Precision, device) -> None:
        self.clock, self.precision, self.device = clock, precision, device

    def run(self, frames: int, fn, *args, **kwargs):
        args = tuple(self.precision.layout(a) for a in args)
        # no_grad per call, not around the generator: a mode entered in a generator would stay
        # on in the caller between frames and after an abandoned stream
        with torch.no_grad(), self.precision.autocast(self.device):
            return self.clock.run(frames, fn, *args, **kwargs)


@dataclass(frozen=True)
class ChunkSpec:
    """How a clip arch streams: chunks of ``frames`` LR frames, consecutive chunks sharing
    ``overlap`` frames (default: a quarter; at most half, so no frame is in three chunks). Over
    the shared frames, ``policy`` ``drop`` keeps the earlier chunk's outputs for the first half
    and the later chunk's for the rest (each chunk loses the outputs next to its inner borders);
    ``blend`` cross-fades linearly from the earlier to the later chunk
    (``vsr.archs.blend.rising_weights``, no margin)."""

    frames: int = 16
    overlap: int | None = None
    policy: Literal["drop", "blend"] = "drop"

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise ValueError(f"chunk frames must be >= 1, got {self.frames}")
        if self.overlap is None:
            object.__setattr__(self, "overlap", self.frames // 4)
        if not 0 <= self.overlap <= self.frames // 2:  # so no frame is in three chunks
            raise ValueError(f"chunk overlap must be in [0, {self.frames // 2}] for "
                             f"{self.frames}-frame chunks, got {self.overlap}")
        if self.policy not in ("drop", "blend"):
            raise ValueError(f"chunk policy must be drop or blend, got {self.policy!r}")

    def later_weights(self) -> Tensor:
        """Weight of the later chunk on each shared frame."""
        if self.policy == "blend":
            return rising_weights(self.overlap)
        keep_earlier = self.overlap - self.overlap // 2
        return torch.cat([torch.zeros(keep_earlier), torch.ones(self.overlap // 2)])

    def describe(self) -> dict:
        return {"frames": self.frames, "overlap": self.overlap, "policy": self.policy}


def frame_conditions(
    arch: nn.Module, available: Mapping[str, Sequence] | None
) -> Iterator[dict] | None:
    """Per-frame keyword arguments for the conditions an arch declares (``arch.conditions``,
    e.g. FOCAS's ``gaze``), taken from what a clip supplies (name -> one value per frame); None
    when the arch declares none that the clip has."""
    names = [n for n in getattr(arch, "conditions", ()) if available and n in available]
    if not names:
        return None
    return ({n: available[n][i] for n in names} for i in itertools.count())


def _temporal(arch: nn.Module) -> str:
    mode = getattr(arch, "temporal", None)
    if mode not in ("frame", "window", "recurrent", "clip"):
        raise TypeError(f"{type(arch).__name__} declares no valid 'temporal' mode (got {mode!r})")
    return mode


def _window_indices(t: int, length: int, num_frames: int) -> list[int]:
    """Indices of the window centred on frame ``t``, reflected at the clip ends."""
    half = num_frames // 2
    out = []
    for i in range(t - half, t + half + 1):
        if length == 1:
            out.append(0)
            continue
        while i < 0 or i >= length:
            i = -i if i < 0 else 2 * (length - 1) - i
        out.append(i)
    return out


def _first_prev(arch: nn.Module, lr: Tensor, t_next: int) -> Tensor:
    """The ``lr_prev`` of the first recurrent step (lr: N, T, C, H, W)."""
    policy = getattr(arch, "first_prev", "same")
    if policy == "next":
        return lr[:, min(t_next, lr.shape[1] - 1)]
    if policy == "same":
        return lr[:, 0]
    if policy == "zeros":
        return torch.zeros_like(lr[:, 0])
    raise ValueError(f"{type(arch).__name__}.first_prev must be next|same|zeros, got {policy!r}")


@dataclass(frozen=True)
class SequenceStart:
    """How a sequence begins, declared as data: an arch's ``sequence_start`` (its inference
    default) or a test set's override; the first recurrent step's ``lr_prev`` stays the arch's
    ``first_prev``.

    ``reflect_pad``: frames k, k-1, …, 1 are prepended (reflected about frame 0) and their
    outputs dropped — FRVSR/TecoGAN inference (``num_pad_front: 5``). ``mirror``: the clip
    followed by its reverse is run and the two outputs of each frame averaged — RVRT's
    Vimeo-90K-T protocol (7 frames mirrored to 14, output 3 averaged with output 10).
    """

    reflect_pad: int = 0
    mirror: bool = False

    def __post_init__(self) -> None:
        if self.reflect_pad < 0:
            raise ValueError(f"sequence_start.reflect_pad must be >= 0, got {self.reflect_pad}")
        if self.reflect_pad and self.mirror:
            raise ValueError("sequence_start takes reflect_pad or mirror, not both")

    def order(self, length: int) -> list[int]:
        """The source frame of each frame the arch runs on, for a clip of ``length`` frames."""
        pad = min(self.reflect_pad, length - 1)
        forward = list(range(length))
        if self.mirror:
            return forward + forward[::-1]
        return list(range(pad, 0, -1)) + forward

    def combine(self, outputs: Tensor, length: int) -> Tensor:
        """The clip's outputs (N, T, ...) from the outputs over ``order`` (N, T', ...)."""
        if self.mirror:
            return (outputs[:, :length] + outputs[:, length:].flip(1)) / 2
        return outputs[:, outputs.shape[1] - length:]


def sequence_start(arch: nn.Module, override: SequenceStart | None = None) -> SequenceStart:
    """The policy to run ``arch`` with: the override, else the arch's declared one, else none."""
    if override is not None:
        return override
    declared = getattr(arch, "sequence_start", None)
    return declared if declared is not None else SequenceStart()


def run_clip(arch: nn.Module, lr: Tensor, conditions: Mapping[str, Tensor] | None = None,
             start: SequenceStart | None = None) -> Tensor:
    """SR of a whole clip (N, T, C, H, W) → (N, T, C, sH, sW), differentiable."""
    return run_clip_with_extras(arch, lr, conditions, start)[0]


def run_clip_with_extras(
    arch: nn.Module,
    lr: Tensor,
    conditions: Mapping[str, Tensor] | None = None,
    start: SequenceStart | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    """SR of a whole clip and the extra outputs of a recurrent ``step`` stacked over time
    (name -> (N, T, ...)), e.g. FRVSR's LR flow for its warping loss. ``conditions`` holds the
    per-frame inputs the arch declares (name -> (N, T, ...)). ``start`` defaults to no policy:
    training runs clips as they are."""
    policy = start or SequenceStart()
    t = lr.shape[1]
    order = policy.order(t)
    if order != list(range(t)):
        lr = lr[:, order]
        conditions = {k: v[:, order] for k, v in (conditions or {}).items()}
    sr, extras = _run_whole(arch, lr, conditions or {})
    return policy.combine(sr, t), {k: policy.combine(v, t) for k, v in extras.items()}


def _run_whole(arch: nn.Module, lr: Tensor,
               conditions: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
    mode = _temporal(arch)
    n, t = lr.shape[:2]
    if conditions and mode != "recurrent":
        raise TypeError(f"per-frame conditions need a recurrent arch; {type(arch).__name__} is "
                        f"{mode}")
    if mode == "frame":
        return arch(lr.flatten(0, 1)).unflatten(0, (n, t)), {}
    if mode == "window":
        num = arch.num_frames
        outs = [arch(lr[:, _window_indices(i, t, num)]) for i in range(t)]
        return torch.stack(outs, dim=1), {}
    if mode == "clip":
        return arch(lr), {}
    outs, extras = [], []
    prev, state = _first_prev(arch, lr, 1), None
    for i in range(t):
        sr, state, extra = _step(arch, prev, lr[:, i], state,
                                 {k: v[:, i] for k, v in conditions.items()})
        outs.append(sr)
        extras.append(extra)
        prev = lr[:, i]
    stacked = {k: torch.stack([e[k] for e in extras], dim=1) for k in extras[0]} if extras else {}
    return torch.stack(outs, dim=1), stacked


def _step(arch: nn.Module, prev: Tensor, curr: Tensor, state: object,
          conditions: Mapping) -> tuple[Tensor, object, dict[str, Tensor]]:
    """One recurrent step; ``step`` returns (sr, state) or (sr, state, extras)."""
    out = arch.step(prev, curr, state, **conditions)
    if len(out) == 3:
        return out
    sr, state = out
    return sr, state, {}


def centre_frame(arch: nn.Module, num_frames: int) -> int | None:
    """The one frame a window arch is trained on when a clip is exactly its window (VSRNet);
    None for other archs and lengths, which train on every frame."""
    if _temporal(arch) == "window" and num_frames == arch.num_frames:
        return num_frames // 2
    return None


def stream(
    arch: nn.Module,
    frames: Iterable[Tensor],
    device: torch.device | str = "cpu",
    batch_frames: int = 8,
    chunk: int | ChunkSpec = 16,
    conditions: Iterable[dict] | None = None,
    timer: FrameTimer | None = None,
    *,
    start: SequenceStart | None = None,
    precision: Precision | None = None,
) -> Iterator[Tensor]:
    """SR frames (C, sH, sW) in float32 on the CPU, one per LR frame (C, H, W), in bounded memory.

    ``chunk`` says how clip archs are chunked (an int: that many frames, default overlap and
    policy). ``conditions`` gives per-frame keyword arguments of a recurrent arch's ``step`` (its
    declared ``conditions``, e.g. FOCAS's ``gaze``), one dict per frame, consumed in step with the
    frames (see ``frame_conditions``). ``timer`` collects the model's time per emitted frame.
    ``start`` overrides the arch's ``sequence_start``; ``mirror`` holds the whole clip (short
    test clips). ``precision`` sets autocast and memory layout of the model calls
    (``Precision.prepare`` is applied to the arch here: channels-last converts its parameters in
    place).
    """
    precision = precision if precision is not None else Precision()
    precision.prepare(arch, device)
    clock = _Calls(timer if timer is not None else _Untimed(), precision, device)
    chunk = chunk if isinstance(chunk, ChunkSpec) else ChunkSpec(chunk)
    mode = _temporal(arch)
    if conditions is not None and mode != "recurrent":
        raise TypeError(f"per-frame conditions need a recurrent arch; {type(arch).__name__} is "
                        f"{mode}")
    policy = sequence_start(arch, start)
    frames = iter(frames)
    conditions = iter(conditions) if conditions is not None else None
    if policy.mirror:
        clip = list(frames)
        order = policy.order(len(clip))
        per_frame = None
        if conditions is not None:
            given = list(itertools.islice(conditions, len(clip)))
            per_frame = iter([given[i] for i in order])
        outs = list(_stream_mode(arch, mode, iter([clip[i] for i in order]), device,
                                 batch_frames, chunk, per_frame, clock))
        for t in range(len(clip)):
            yield (outs[t] + outs[len(outs) - 1 - t]) / 2
        _drop_timings(timer, len(clip))
        return
    head = list(itertools.islice(frames, policy.reflect_pad + 1))
    pad = min(policy.reflect_pad, max(len(head) - 1, 0))
    frames = itertools.chain(head[pad:0:-1], head, frames)
    if conditions is not None and pad:
        given = list(itertools.islice(conditions, len(head)))
        conditions = itertools.chain(given[pad:0:-1], given, conditions)
    outs = _stream_mode(arch, mode, frames, device, batch_frames, chunk, conditions,
                        clock)
    yield from itertools.islice(outs, pad, None)
    if pad:
        _drop_timings(timer, -pad)


def _drop_timings(timer: FrameTimer | None, keep: int) -> None:
    """Keeps the first ``keep`` per-frame times (or drops the first ``-keep``): frames run only
    for a start policy are not output frames."""
    if timer is not None:
        timer.seconds[:] = timer.seconds[:keep] if keep > 0 else timer.seconds[-keep:]


def _stream_mode(arch, mode: str, frames: Iterator[Tensor], device, batch_frames: int,
                 chunk: ChunkSpec, conditions: Iterator[dict] | None,
                 clock) -> Iterator[Tensor]:
    if mode == "frame":
        yield from _stream_frames(arch, frames, device, batch_frames, clock)
    elif mode == "recurrent":
        per_frame = conditions if conditions is not None else itertools.repeat({})
        yield from _stream_recurrent(arch, frames, device, per_frame, clock)
    elif mode == "window":
        yield from _stream_window(arch, frames, device, clock)
    else:
        yield from _stream_clip(arch, frames, device, chunk, clock)


def _stream_frames(arch, frames: Iterator[Tensor], device, batch_frames: int,
                   clock) -> Iterator[Tensor]:
    batch: list[Tensor] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == batch_frames:
            yield from _frames_of(clock.run(len(batch), arch, torch.stack(batch).to(device)))
            batch = []
    if batch:
        yield from _frames_of(clock.run(len(batch), arch, torch.stack(batch).to(device)))


def _frames_of(batch: Tensor) -> Iterator[Tensor]:
    """The frames of a batch output; once the last is yielded nothing here refers to the batch,
    so a suspended stream holds no output (a tiled run suspends one stream per tile)."""
    frames = list(to_output(batch).unbind(0))
    del batch
    while frames:
        yield frames.pop(0)


def _stream_recurrent(arch, frames: Iterator[Tensor], device, conditions,
                      clock) -> Iterator[Tensor]:
    first = next(frames, None)
    if first is None:
        return
    curr = first[None].to(device)
    nxt = next(frames, None)
    nxt = None if nxt is None else nxt[None].to(device)
    policy = getattr(arch, "first_prev", "same")
    prev = {"next": nxt if nxt is not None else curr, "same": curr,
            "zeros": torch.zeros_like(curr)}[policy]
    state = None
    while curr is not None:
        sr, state, _ = clock.run(1, _step, arch, prev, curr, state, next(conditions))
        yield to_output(sr[0])
        prev, curr = curr, nxt
        if curr is not None:
            following = next(frames, None)
            nxt = None if following is None else following[None].to(device)


def _stream_window(arch, frames: Iterator[Tensor], device, clock) -> Iterator[Tensor]:
    """Reads ``num_frames // 2`` frames ahead; frames no window needs any more are dropped."""
    half = arch.num_frames // 2
    buffer: dict[int, Tensor] = {}
    read = 0
    exhausted = False
    for t in itertools.count():
        while not exhausted and read <= t + half:
            frame = next(frames, None)
            if frame is None:
                exhausted = True
            else:
                buffer[read] = frame.to(device)
                read += 1
        if t >= read:
            return
        # before the end is known, every index the window needs past t is already read
        idx = _window_indices(t, read if exhausted else t + half + 1, arch.num_frames)
        yield to_output(clock.run(1, arch, torch.stack([buffer[i] for i in idx])[None])[0])
        buffer.pop(t - half - 1, None)


def _stream_clip(arch, frames: Iterator[Tensor], device, chunk: ChunkSpec,
                 clock) -> Iterator[Tensor]:
    """Runs chunks of ``chunk.frames``; the outputs a chunk shares with the next wait for it and
    are then merged by the chunk's weights (0/1 for ``drop``, a ramp for ``blend``)."""
    later = chunk.later_weights()
    buf: list[Tensor] = []  # LR frames of the current chunk; its head is shared with the last one
    pending: list[Tensor] = []  # the previous chunk's outputs on the shared frames
    exhausted = False
    while True:
        while not exhausted and len(buf) < chunk.frames:
            frame = next(frames, None)
            if frame is None:
                exhausted = True
            else:
                buf.append(frame.to(device))
        if len(buf) == len(pending):  # nothing new after the shared frames: they are final
            yield from pending
            return
        keep = 0 if exhausted else chunk.overlap  # outputs held back for the next chunk
        # the chunk's time is charged to the frames it adds to the shared ones
        out = clock.run(len(buf) - len(pending), arch, torch.stack(buf)[None])[0]
        for i, earlier in enumerate(pending):
            yield torch.lerp(earlier, to_output(out[i]), float(later[i]))
        for i in range(len(pending), len(buf) - keep):
            yield to_output(out[i])
        pending = [to_output(out[i]) for i in range(len(buf) - keep, len(buf))]
        buf = buf[len(buf) - keep:]
        if exhausted:
            return
