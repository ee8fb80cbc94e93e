"""ELSR with the real ELSR-torch weights reproduces the original's outputs (elsr_real.pt)."""

import cv2
import numpy as np
import torch

from tests.conftest import load_fixture, shared_path
from vsr.archs.elsr import ELSR
from vsr.engine.checkpoint import load_weights


def _elsr_x4() -> ELSR:
    net = ELSR(scale=4).eval()
    load_weights(net, shared_path("data", "weights", "elsr_torch", "best_X4_model.pth"))
    return net


def test_real_weights_raw_forward_matches_fixture():
    fx = load_fixture("elsr_real.pt")
    with torch.no_grad():
        out = _elsr_x4()(fx["b_input"])
    assert (out - fx["b_sr_raw"]).abs().max() < 1e-5


def test_test_image_pipeline_matches_fixture():
    """ELSR-torch's test.py: cv2 INTER_CUBIC ÷4, forward, clamp; PSNR on RGB in [0, 1]."""
    fx = load_fixture("elsr_real.pt")
    gt = fx["a_gt_crop_uint8"].numpy()
    lr = cv2.resize(gt, (gt.shape[1] // 4, gt.shape[0] // 4), interpolation=cv2.INTER_CUBIC)
    assert np.array_equal(lr, fx["a_lr_uint8"].numpy())
    x = torch.from_numpy(lr).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        sr = _elsr_x4()(x).clamp(0, 1)
    assert (sr - fx["a_sr"]).abs().max() < 1e-5
    ref = torch.from_numpy(gt).permute(2, 0, 1)[None].float() / 255
    psnr = 10 * torch.log10(1 / ((sr - ref) ** 2).mean())
    assert abs(psnr.item() - fx["a_psnr_sr"]) < 1e-3


def test_x2_checkpoint_loads_and_parameter_counts():
    net = ELSR(scale=2)
    load_weights(net, shared_path("data", "weights", "elsr_torch", "best_X2_model.pth"))
    assert sum(p.numel() for p in net.parameters()) == 1489
    assert sum(p.numel() for p in ELSR(scale=4).parameters()) == 3469


def test_wrong_scale_weights_give_one_clear_error():
    net = ELSR(scale=2)
    try:
        load_weights(net, shared_path("data", "weights", "elsr_torch", "best_X4_model.pth"))
    except ValueError as exc:
        assert "layer5.weight" in str(exc) and "best_X4_model.pth" in str(exc)
    else:
        raise AssertionError("loading x4 weights into an x2 ELSR must fail")
