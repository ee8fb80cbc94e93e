"""EWPSNR and FWQI against FOCAS's metric code (fixtures) and against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.conftest import load_fixture
from vsr.metrics.foveated import EWPSNR, FWQI
from vsr.metrics.protocol import Protocol
from vsr.metrics.psnr_ssim import PSNR
from vsr.registry import METRICS


def _frames(fx: dict, key: str) -> torch.Tensor:
    """(T, H, W, 3) uint8 → (T, 3, H, W) float64 in [0, 1]."""
    return fx[key].permute(0, 3, 1, 2).to(torch.float64) / 255


def test_metrics_focas_fixture() -> None:
    fx = load_fixture("metrics_focas.pt")
    pred, gt = _frames(fx, "pred_uint8"), _frames(fx, "gt_uint8")
    psnr = METRICS.build({"type": "PSNR", "y_formula": "focas"})
    ewpsnr = METRICS.build({"type": "EWPSNR", "normalization": "focas"})
    fwqi = METRICS.build("FWQI")
    psnrs, ewpsnrs, fwqis = [], [], []
    for t, gaze in enumerate(fx["gazes"]):
        psnrs.append(psnr(pred[t], gt[t]))
        ewpsnrs.append(ewpsnr(pred[t], gt[t], gaze=gaze))
        value, subbands = fwqi.subbands(pred[t], gt[t], gaze=gaze)
        fwqis.append(fwqi(pred[t], gt[t], gaze=gaze))
        assert psnrs[t] == pytest.approx(fx["psnr"][t], abs=1e-6)
        assert ewpsnrs[t] == pytest.approx(fx["ewpsnr"][t], abs=1e-6)
        assert ewpsnr.ewmse(pred[t], gt[t], gaze=gaze) == pytest.approx(fx["ewmse"][t], abs=1e-9)
        assert fwqis[t] == pytest.approx(fx["fwqi"][t], abs=1e-6)
        assert value == pytest.approx(fwqis[t], abs=1e-12)
        np.testing.assert_allclose(subbands, fx["fwqi_subbands"][t], rtol=0, atol=1e-6)
    assert fwqi(gt[0], gt[0], gaze=fx["gazes"][0]) == pytest.approx(fx["fwqi_identical"], abs=1e-12)
    # infer()'s float32 tensor means of the per-frame values
    assert np.mean(psnrs) == pytest.approx(fx["psnr_tensor_mean"], abs=1e-3)
    assert np.mean(ewpsnrs) == pytest.approx(fx["ewpsnr_tensor_mean"], abs=1e-3)
    assert np.mean(fwqis) == pytest.approx(fx["fwqi_tensor_mean"], abs=1e-6)


def test_focas_recurrent_stored_metrics() -> None:
    """infer() scores every frame with its own gaze, then averages the per-frame values."""
    fx = load_fixture("focas_recurrent.pt")
    sr = fx["raw_outputs"][0].permute(1, 0, 2, 3).clamp(0, 1)
    gt = fx["hr_uint8"].permute(0, 3, 1, 2).to(torch.float32) / 255
    psnr, ewpsnr, fwqi = PSNR(y_formula="focas"), EWPSNR(normalization="focas"), FWQI()
    gazes = fx["gaze"]
    assert len(gazes) == sr.shape[0] == 6
    assert np.mean([psnr(s, g) for s, g in zip(sr, gt)]) == pytest.approx(fx["psnr"], abs=1e-3)
    ew = [ewpsnr(s, g, gaze=z) for s, g, z in zip(sr, gt, gazes)]
    assert np.mean(ew) == pytest.approx(fx["ewpsnr"], abs=1e-3)
    fw = [fwqi(s, g, gaze=z) for s, g, z in zip(sr, gt, gazes)]
    assert np.mean(fw) == pytest.approx(fx["fwqi"], abs=1e-6)


def test_defaults_and_registry() -> None:
    for name in ("EWPSNR", "FWQI"):
        metric = METRICS.build(name)
        assert metric.conditions == ("gaze",)
        assert metric.protocol == Protocol(y_formula="focas")
    assert EWPSNR().sigma == 64.0 and EWPSNR().normalization == "weighted"
    assert EWPSNR(y_formula="matlab").protocol.y_formula == "matlab"
    assert Protocol().y_formula == "matlab"  # the Protocol's own default is untouched
    assert not getattr(PSNR(), "conditions", ())


def test_uniform_error_gives_plain_psnr() -> None:
    gt = torch.rand(3, 40, 56, dtype=torch.float64) * 0.9
    sr = gt + 3 / 255  # the same Y error at every pixel
    plain = PSNR(y_formula="focas")(sr, gt)
    for gaze in [None, (0, 0), (20.5, 40), (-30, 100)]:
        assert EWPSNR()(sr, gt, gaze=gaze) == pytest.approx(plain, abs=1e-9)


def test_focas_normalisation_adds_log_pixel_count() -> None:
    gt = torch.rand(3, 48, 64, dtype=torch.float64)
    sr = (gt + 0.05 * torch.randn_like(gt)).clamp(0, 1)
    for gaze in [(10, 50), (47, 0), None]:
        weighted = EWPSNR()(sr, gt, gaze=gaze)
        focas = EWPSNR(normalization="focas")(sr, gt, gaze=gaze)
        assert focas - weighted == pytest.approx(10 * math.log10(48 * 64), abs=1e-9)


def test_ewpsnr_follows_the_gaze() -> None:
    """An error only in the top-left corner matters more when the viewer looks there, and equals
    the hand-computed Gaussian-weighted MSE."""
    gt = torch.full((3, 64, 96), 0.5, dtype=torch.float64)
    sr = gt.clone()
    sr[:, :8, :8] += 10 / 255
    metric = EWPSNR(sigma=16.0, channel="rgb")
    near, far = metric(sr, gt, gaze=(0, 0)), metric(sr, gt, gaze=(63, 95))
    assert near < far
    hh, ww = torch.meshgrid(
        torch.arange(64, dtype=torch.float64), torch.arange(96, dtype=torch.float64), indexing="ij"
    )
    w = torch.exp(-(hh**2 + ww**2) / (2 * 16.0**2))
    err = torch.zeros(64, 96, dtype=torch.float64)
    err[:8, :8] = 100.0
    expected = ((w * err).sum() / w.sum()).item()
    assert metric.ewmse(sr, gt, gaze=(0, 0)) == pytest.approx(expected, rel=1e-12)
    assert metric(gt, gt) == math.inf


def test_gaze_centre_default_and_crop() -> None:
    gt = torch.rand(3, 40, 60, dtype=torch.float64)
    sr = (gt + 0.03 * torch.randn_like(gt)).clamp(0, 1)
    for metric in (EWPSNR(), FWQI()):
        assert metric(sr, gt) == metric(sr, gt, gaze=(20, 30))
        assert metric(sr, gt, gaze=torch.tensor([20.0, 30.0])) == metric(sr, gt, gaze=(20, 30))
        with pytest.raises(ValueError, match="gaze"):
            metric(sr, gt, gaze=(float("nan"), 3))
    # the gaze is given in uncropped pixels: cropping the frame by hand moves it by the crop
    cropped = EWPSNR(crop_border=4)(sr, gt, gaze=(10, 12))
    by_hand = EWPSNR()(sr[:, 4:-4, 4:-4], gt[:, 4:-4, 4:-4], gaze=(6, 8))
    assert cropped == pytest.approx(by_hand, abs=1e-12)


def test_fwqi_identical_and_degraded() -> None:
    gt = torch.rand(3, 64, 80, dtype=torch.float64)
    fwqi = FWQI()
    assert fwqi(gt, gt, gaze=(10, 70)) == pytest.approx(1.0, abs=1e-12)
    mild = (gt + 0.02 * torch.randn_like(gt)).clamp(0, 1)
    strong = (gt + 0.2 * torch.randn_like(gt)).clamp(0, 1)
    assert 1.0 > fwqi(mild, gt) > fwqi(strong, gt) >= -1.0
    value, subbands = fwqi.subbands(gt, gt)
    assert value == pytest.approx(1.0, abs=1e-12) and len(subbands) == 10
