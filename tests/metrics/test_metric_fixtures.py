"""PSNR/SSIM under the RRN protocol reproduce RRN/test.py on a real crop (metrics_rrn.pt)."""

import pytest

from tests.conftest import load_fixture
from vsr.metrics.psnr_ssim import PSNR, SSIM


def test_rrn_protocol_matches_fixture():
    fx = load_fixture("metrics_rrn.pt")
    gt = fx["gt_uint8"].permute(0, 3, 1, 2).double() / 255
    pred = fx["pred_rgb"].permute(0, 3, 1, 2).double()
    psnr = PSNR(channel="y", y_formula="matlab", crop_border=8)
    ssim = SSIM(channel="y", y_formula="matlab", crop_border=8)
    for t in range(3):
        assert psnr(pred[t], gt[t]) == pytest.approx(fx["psnr_y"][t], abs=1e-6)
        assert ssim(pred[t], gt[t]) == pytest.approx(fx["ssim_y"][t], abs=1e-6)


def test_identical_frames():
    fx = load_fixture("metrics_rrn.pt")
    gt = fx["gt_uint8"][0].permute(2, 0, 1).double() / 255
    assert SSIM(channel="y")(gt, gt) == pytest.approx(1.0)
    assert PSNR(channel="y")(gt, gt) == float("inf")
