"""The metric protocol the evaluator drives: a metric sees a clip in order, one frame at a time.

Per clip the evaluator calls ``begin_clip()``, then ``frame(sr, gt, prev_sr, prev_gt,
**conditions)`` for every scored frame (in order, with the clip's previous SR and GT frames, even
when that previous frame was itself not scored; ``None`` at the clip's first frame), then
``end_clip()``. ``frame`` returns the frame's value or ``None`` (no value for this frame, e.g. a
temporal metric at a clip's first frame); ``end_clip`` returns the clip's value when it is not a
mean of frame values (e.g. a PSNR of the MSE pooled over the clip), or ``None``. Temporal metrics
such as TecoGAN's tOF and tLP (MODELS.md §3.6) are ``SequenceMetric`` subclasses; the evaluator
holds only the previous frame pair, never a clip.

Plain frame metrics stay callables ``metric(sr, gt, **conditions) -> float``; ``as_sequence_metric``
adapts them. Either kind may declare ``conditions`` (per-frame inputs such as ``("gaze",)``) and a
``protocol`` (its skipped frames are applied by the evaluator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor


class SequenceMetric:
    """Base of metrics that see whole clips; subclasses implement ``frame`` and may keep
    per-clip state between ``begin_clip`` and ``end_clip``."""

    conditions: tuple[str, ...] = ()

    def begin_clip(self) -> None:
        """Start a clip: reset what ``frame`` accumulates."""

    def frame(self, sr: Tensor, gt: Tensor, prev_sr: Tensor | None, prev_gt: Tensor | None,
              **conditions: Any) -> float | None:
        """Score one (C, H, W) frame in [0, 1]; the previous pair is ``None`` at frame 0."""
        raise NotImplementedError

    def end_clip(self) -> float | None:
        """The clip's value when it is not the mean of the frame values; ``None`` otherwise."""
        return None


class ConsecutivePairMetric(SequenceMetric):
    """A temporal metric valued on consecutive frames that are both scored (tOF, tLP): with the
    first 2 frames cut, the first value is at frame 3, for the pair (2, 3)."""

    _previous_scored = False

    def begin_clip(self) -> None:
        self._previous_scored = False

    def frame(self, sr: Tensor, gt: Tensor, prev_sr: Tensor | None, prev_gt: Tensor | None,
              **conditions: Any) -> float | None:
        paired = self._previous_scored and prev_sr is not None and prev_gt is not None
        self._previous_scored = True
        return self.pair(prev_sr, sr, prev_gt, gt) if paired else None

    def pair(self, prev_sr: Tensor, sr: Tensor, prev_gt: Tensor, gt: Tensor) -> float:
        """The value for the pair (t−1, t)."""
        raise NotImplementedError


class FrameMetricAdapter(SequenceMetric):
    """A plain ``metric(sr, gt, **conditions)`` as a SequenceMetric (previous frames unused)."""

    def __init__(self, metric: Callable[..., float]) -> None:
        self.metric = metric
        self.conditions = tuple(getattr(metric, "conditions", ()))
        protocol = getattr(metric, "protocol", None)
        if protocol is not None:
            self.protocol = protocol

    def frame(self, sr: Tensor, gt: Tensor, prev_sr: Tensor | None, prev_gt: Tensor | None,
              **conditions: Any) -> float:
        return self.metric(sr, gt, **conditions)


def as_sequence_metric(metric: SequenceMetric | Callable[..., float]) -> SequenceMetric:
    """``metric`` itself if it is a SequenceMetric, else the adapter around the callable."""
    return metric if isinstance(metric, SequenceMetric) else FrameMetricAdapter(metric)
