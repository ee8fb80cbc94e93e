"""The Evaluator drives the sequence metric protocol (begin_clip, frame with the previous SR/GT
frames, end_clip) and pools values as the chosen Averaging says, on toy clips whose SR and GT
frames are known exactly: an identity "arch" makes SR = LR."""

import json
import math
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from vsr.engine.evaluator import Evaluator
from vsr.metrics.protocol import Averaging, Protocol
from vsr.metrics.sequence import SequenceMetric


class _Identity(nn.Module):
    temporal = "frame"
    scale = 1

    def forward(self, x):
        return x.clone()


@dataclass
class _Clip:
    name: str
    lr: list  # constant frame values; SR = LR
    gt: list
    fps: int = 25

    @property
    def num_frames(self) -> int:
        return len(self.lr)

    def streams(self):
        def frames(values):
            return (torch.full((3, 4, 4), float(v)) for v in values)
        return frames(self.lr), frames(self.gt)


class _Toy:
    def __init__(self, *clips):
        self._clips = list(clips)

    def clips(self):
        return self._clips


class TemporalDifferenceError(SequenceMetric):
    """mean |(sr_t − sr_{t−1}) − (gt_t − gt_{t−1})|; no value at a clip's first frame."""

    def __init__(self, protocol=None):
        if protocol is not None:
            self.protocol = protocol
        self.prev_seen = []

    def frame(self, sr, gt, prev_sr, prev_gt):
        self.prev_seen.append(None if prev_sr is None else prev_sr.mean().item())
        if prev_sr is None:
            return None
        return ((sr - prev_sr) - (gt - prev_gt)).abs().mean().item()


class PooledPSNR(SequenceMetric):
    """PSNR (on [0, 1]) of the MSE pooled over the clip: a per-clip value, not a frame mean."""

    def begin_clip(self):
        self.sse, self.count = 0.0, 0

    def frame(self, sr, gt, prev_sr, prev_gt):
        self.sse += ((sr - gt) ** 2).sum().item()
        self.count += sr.numel()
        return None

    def end_clip(self):
        return 10 * math.log10(1 / (self.sse / self.count))


def _evaluate(tmp_path, dataset, metrics, averaging=None):
    evaluator = Evaluator({"toy": dataset}, metrics, tmp_path / "out", log=lambda _: None,
                          averaging=averaging)
    scores = evaluator.evaluate(_Identity())["toy"]
    record = json.loads((tmp_path / "out" / "results" / "toy.json").read_text())
    return scores, record


def test_temporal_metric_sees_the_previous_frames_and_a_clip_value_comes_from_end_clip(tmp_path):
    # SR 0.1, 0.3, 0.2; GT 0.2, 0.25, 0.5 (float32 frames, so compared to 1e-6):
    # t1 |0.2 − 0.05| = 0.15, t2 |−0.1 − 0.25| = 0.35; clip mean 0.25.
    # Pooled MSE (0.01 + 0.0025 + 0.09) / 3 → PSNR 10·log10(3 / 0.1025) = 14.6640 dB, while
    # the mean of the frame PSNRs (20, 26.02, 10.46) would be 18.83 dB.
    a = _Clip("a", [0.1, 0.3, 0.2], [0.2, 0.25, 0.5])
    b = _Clip("b", [0.5, 0.5], [0.5, 0.7])  # its first frame must not see clip a's last
    tde, skipping = TemporalDifferenceError(), TemporalDifferenceError(Protocol(skip_first=1))
    scores, record = _evaluate(tmp_path, _Toy(a, b), {"TDE": tde, "TDE_skip1": skipping,
                                                      "pooled": PooledPSNR()})
    clip_a, clip_b = record["clips"]
    assert clip_a["per_frame"]["TDE"] == [None, pytest.approx(0.15, abs=1e-6),
                                          pytest.approx(0.35, abs=1e-6)]
    assert clip_a["mean"]["TDE"] == pytest.approx(0.25, abs=1e-6)
    assert clip_b["per_frame"]["TDE"] == [None, pytest.approx(0.2, abs=1e-6)]
    assert tde.prev_seen == [None, pytest.approx(0.1), pytest.approx(0.3),
                             None, pytest.approx(0.5)]
    # frame 0 is skipped, yet frame 1 still gets it as its previous frame
    assert clip_a["per_frame"]["TDE_skip1"] == clip_a["per_frame"]["TDE"]
    assert skipping.prev_seen == [pytest.approx(0.1), pytest.approx(0.3), pytest.approx(0.5)]
    assert clip_a["mean"]["pooled"] == pytest.approx(10 * math.log10(3 / 0.1025), abs=1e-5)
    assert clip_b["mean"]["pooled"] == pytest.approx(10 * math.log10(2 / 0.04), abs=1e-5)
    assert clip_a["per_frame"]["pooled"] == [None, None, None]
    assert scores["TDE"] == pytest.approx((0.25 + 0.2) / 2, abs=1e-6)
    assert scores["pooled"] == pytest.approx(
        (10 * math.log10(3 / 0.1025) + 10 * math.log10(50)) / 2, abs=1e-5)


def _frame_index(sr, gt):
    """A plain frame metric whose value is the frame index (encoded in the GT)."""
    return round(gt.mean().item() * 100)


@pytest.mark.parametrize("averaging, expected, line", [
    # clip a: frames 0..4, mean 2; clip b: frames 0..2, mean 1
    (Averaging("clip"), (2 + 1) / 2, "mean over frames per clip, then mean over clips"),
    # all 8 frames: (0+1+2+3+4 + 0+1+2) / 8
    (Averaging("frame"), 13 / 8, "mean over all frames of the set"),
    # 2-frame segments: a [0,1] [2,3] [4] → 0.5, 2.5, 4 → 7/3; b [0,1] [2] → 0.5, 2 → 1.25
    (Averaging("segment", 2), (7 / 3 + 1.25) / 2,
     "mean over frames per 2-frame segment, then over segments per clip, then over clips"),
])
def test_averaging_modes(tmp_path, averaging, expected, line):
    index = [t / 100 for t in range(5)]
    dataset = _Toy(_Clip("a", index, index), _Clip("b", index[:3], index[:3]))
    scores, record = _evaluate(tmp_path, dataset, {"index": _frame_index}, averaging)
    assert record["clips"][0]["per_frame"]["index"] == [0, 1, 2, 3, 4]
    assert scores["index"] == pytest.approx(expected, abs=1e-12)
    assert record["average"]["index"] == pytest.approx(expected, abs=1e-12)
    assert record["averaging"] == line
    markdown = (tmp_path / "out" / "results" / "toy.md").read_text()
    assert f"- {line}\n" in markdown
    if averaging.mode == "segment":
        assert record["clips"][0]["per_segment"]["index"] == [0.5, 2.5, 4.0]
        assert record["clips"][0]["mean"]["index"] == pytest.approx(7 / 3, abs=1e-12)
    # TecoGAN's "folder avg" and "total avg": a clip or frame mean comes with the other one
    other = {"clip": ("all frames", 13 / 8), "frame": ("mean of clips", 1.5)}.get(averaging.mode)
    if other is None:
        assert record["other_average"] is None
    else:
        assert record["other_average"]["label"] == other[0]
        assert record["other_average"]["average"]["index"] == pytest.approx(other[1], abs=1e-12)
        assert f"| {other[0]} | 8 | | {other[1]:.4f} |" in markdown


def test_frame_averaging_weights_a_clip_value_by_its_frames(tmp_path):
    a = _Clip("a", [0.1, 0.3, 0.2], [0.2, 0.25, 0.5])
    b = _Clip("b", [0.5, 0.5], [0.5, 0.7])
    scores, _ = _evaluate(tmp_path, _Toy(a, b), {"pooled": PooledPSNR()}, Averaging("frame"))
    pa, pb = 10 * math.log10(3 / 0.1025), 10 * math.log10(50)
    assert scores["pooled"] == pytest.approx((3 * pa + 2 * pb) / 5, abs=1e-5)


def test_segment_averaging_refuses_a_per_clip_value(tmp_path):
    dataset = _Toy(_Clip("a", [0.1, 0.3], [0.2, 0.25]))
    with pytest.raises(ValueError, match=r"metric pooled gives one value per clip \(toy/a\)"):
        _evaluate(tmp_path, dataset, {"pooled": PooledPSNR()}, Averaging("segment", 2))
