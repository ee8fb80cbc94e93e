"""PSNR/SSIM under explicit protocols, against RRN's test.py and hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from tests.conftest import load_fixture
from vsr.io.color import rgb_to_y
from vsr.metrics.protocol import Protocol
from vsr.metrics.psnr_ssim import PSNR, SSIM
from vsr.registry import METRICS


def test_rrn_protocol_matches_fixture() -> None:
    fx = load_fixture("metrics_rrn.pt")
    gt = fx["gt_uint8"].permute(0, 3, 1, 2).to(torch.float32) / 255
    pred = fx["pred_rgb"].permute(0, 3, 1, 2)  # unclamped float32, not rounded (RRN test.py)
    spec = {"channel": "y", "y_formula": "matlab", "crop_border": 8}
    psnr_metric = METRICS.build({"type": "PSNR", **spec})
    ssim_metric = METRICS.build({"type": "SSIM", **spec})
    for t in range(3):
        assert abs(psnr_metric(pred[t], gt[t]) - fx["psnr_y"][t]) < 1e-6
        assert abs(ssim_metric(pred[t], gt[t]) - fx["ssim_y"][t]) < 1e-6


def test_identical_frames() -> None:
    frame = torch.rand(3, 32, 40)
    for channel in ("rgb", "y"):
        assert PSNR(channel=channel)(frame, frame) == math.inf
        assert SSIM(channel=channel)(frame, frame) == pytest.approx(1.0, abs=1e-12)


def test_psnr_of_known_error() -> None:
    gt = torch.zeros(3, 16, 16, dtype=torch.float64)
    sr = gt + 1 / 255  # one grey level everywhere: MSE 1 on RGB → 48.13 dB
    assert PSNR(channel="rgb")(sr, gt) == pytest.approx(20 * math.log10(255), abs=1e-9)
    # MATLAB Y compresses to 219/255 of the range
    y_psnr = 20 * math.log10(255 / (219 / 255))
    assert PSNR(channel="y")(sr, gt) == pytest.approx(y_psnr, abs=1e-9)


def test_crop_and_rounding() -> None:
    gt = torch.full((3, 20, 20), 0.5, dtype=torch.float64)
    sr = gt.clone()
    sr[:, :2, :] += 0.2  # error only in the border rows
    assert PSNR(channel="rgb", crop_border=2)(sr, gt) == math.inf
    tiny = gt + 0.4 / 255  # below half a grey level: vanishes when both are quantised
    assert PSNR(channel="rgb", round_to_8bit=True)(tiny, gt) == math.inf
    assert PSNR(channel="rgb")(tiny, gt) == pytest.approx(20 * math.log10(255 / 0.4))


def test_ssim_rgb_averages_channels() -> None:
    gt = torch.rand(3, 24, 24, dtype=torch.float64)
    sr = gt.clone()
    sr[1] = torch.rand(24, 24, dtype=torch.float64)
    per_channel = [
        SSIM(channel="rgb")(sr[c : c + 1].expand(3, -1, -1), gt[c : c + 1].expand(3, -1, -1))
        for c in range(3)
    ]
    assert per_channel[0] == pytest.approx(1.0) and per_channel[1] < 0.5
    assert SSIM(channel="rgb")(sr, gt) == pytest.approx(sum(per_channel) / 3, abs=1e-12)


def test_y_formulas() -> None:
    white = torch.full((3, 1, 1), 255.0, dtype=torch.float64)
    assert rgb_to_y(white, "matlab").item() == pytest.approx(235.0, abs=1e-9)
    assert rgb_to_y(white, "duf").item() == pytest.approx(235.0, abs=1e-9)
    assert rgb_to_y(white, "focas").item() == pytest.approx(16 + 218.859 * 255 / 256, abs=1e-9)
    assert rgb_to_y(white, "jpeg").item() == pytest.approx(255.0, abs=1e-9)
    with pytest.raises(ValueError):
        rgb_to_y(white, "bt709")


def test_protocol_validation_and_description() -> None:
    p = Protocol(
        channel="y", y_formula="duf", crop_border=8, skip_first=2, skip_last=2, round_to_8bit=True
    )
    assert p.describe() == "Y(duf), crop 8 px, frames skip first 2, last 2, uint8"
    assert Protocol(channel="rgb").describe() == "RGB, no crop, all frames, float"
    assert PSNR(protocol=p).protocol is p
    with pytest.raises(ValueError):
        Protocol(channel="ycbcr")
    with pytest.raises(ValueError):
        Protocol(crop_border=-1)
    with pytest.raises(ValueError):
        PSNR(protocol=p, crop_border=4)
