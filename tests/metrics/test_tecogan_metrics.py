"""TecoGAN's official test metrics reproduce ``metrics_tecogan.pt`` (the original script run on a
real Vid4 calendar crop and DUF-52L outputs): PSNR, SSIM and tOF per frame and their means."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import load_fixture
from vsr.metrics.protocol import crop_8x8_box
from vsr.metrics.psnr_ssim import PSNR
from vsr.metrics.sequence import as_sequence_metric
from vsr.metrics.tecogan import TOF, TecoGANSSIM, farneback_flow

TECOGAN = dict(channel="y", y_formula="duf", round_to_8bit=True, crop_8x8=True, skip_first=2,
               skip_last=2)


@pytest.fixture(scope="module")
def fixture():
    return load_fixture("metrics_tecogan.pt")


def _frames(uint8: torch.Tensor) -> list[torch.Tensor]:
    return [f.permute(2, 0, 1).double() / 255 for f in uint8]


def _drive(metric, sr: list, gt: list) -> list[float]:
    """What the evaluator does for one clip: every scored frame, in order, with its previous."""
    metric = as_sequence_metric(metric)
    metric.begin_clip()
    values = []
    for t, (s, g) in enumerate(zip(sr, gt)):
        if metric.protocol.scores_frame(t, len(sr)):
            value = metric.frame(s, g, sr[t - 1] if t else None, gt[t - 1] if t else None)
            if value is not None:
                values.append(value)
    return values


def test_crop_8x8_is_the_fixtures(fixture):
    top, left, h, w = crop_8x8_box(144, 180)
    assert [top, left] == list(fixture["crop_8x8_offset"])
    assert [h, w] == list(fixture["crop_8x8_shape"])[:2]


def test_psnr_ssim_tof_match_the_official_script(fixture):
    sr, gt = _frames(fixture["result_uint8"]), _frames(fixture["gt_uint8"])
    psnr = _drive(PSNR(**TECOGAN), sr, gt)
    ssim = _drive(TecoGANSSIM(**TECOGAN), sr, gt)
    tof = _drive(TOF(**TECOGAN), sr, gt)
    np.testing.assert_allclose(psnr, fixture["psnr"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(ssim, fixture["ssim"], rtol=0, atol=1e-6)
    assert len(tof) == 2  # pairs (2,3) and (3,4) only
    np.testing.assert_allclose(tof, fixture["tof"], rtol=0, atol=1e-4)
    means = fixture["frame_avg"]
    assert abs(np.mean(psnr) - means["PSNR"]) < 1e-6 and abs(np.mean(tof) - means["tOF"]) < 1e-4


def test_farneback_of_the_gt_pair_is_the_stored_flow(fixture):
    gt = _frames(fixture["gt_uint8"])
    flow = farneback_flow(gt[2], gt[3])
    assert np.abs(flow - fixture["farneback_gt_2to3"].numpy()).max() < 1e-4


def test_tof_is_zero_for_a_perfect_output_and_grows_with_motion_error(fixture):
    gt = _frames(fixture["gt_uint8"])
    assert _drive(TOF(**TECOGAN), gt, gt) == [0.0, 0.0]
    frozen = [gt[2]] * len(gt)  # an output that stops moving: its flow is zero
    moved = _drive(TOF(**TECOGAN), frozen, gt)
    assert min(moved) > 0.05
