"""Degradations against the originals' outputs (degradation_bd.pt) and real published LR files."""

import numpy as np
import pytest
import torch

from tests.conftest import load_fixture, shared_path
from vsr.data.degradations import bd_duf, bd_tecogan, bi
from vsr.io.image import list_frames, read_image


@pytest.fixture(scope="module")
def fx():
    return load_fixture("degradation_bd.pt")


def _hr(fx) -> torch.Tensor:
    return fx["gt_uint8"].permute(0, 3, 1, 2).double() / 255  # (T, C, H, W)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_duf_gaussian_downsample(fx, scale):
    expected = fx[f"duf_lr_x{scale}"].permute(1, 0, 2, 3)  # stored (C, T, h, w)
    out = bd_duf(_hr(fx).float(), scale=scale)
    assert out.shape == expected.shape
    assert (out - expected).abs().max() < 1e-6


def test_rrn_test_variant_pads_hr_by_8(fx):
    expected = fx["rrn_lr_x4_padded"].permute(1, 0, 2, 3)
    out = bd_duf(_hr(fx).float(), scale=4, hr_reflect_pad=8)
    assert (out - expected).abs().max() < 1e-6


def test_tecogan_bd_float_and_png(fx):
    hr = _hr(fx).float()
    assert (bd_tecogan(hr, mode="test") - fx["tecogan_bd_test_float"]).abs().max() < 1e-6
    assert (bd_tecogan(hr, mode="train") - fx["tecogan_bd_train_float"]).abs().max() < 1e-6
    png = (bd_tecogan(hr, mode="png") * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    diff = (png.int() - fx["tecogan_bd_png_uint8"].int()).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() < 1e-3


def _real_lr_check(folder: str, degrade) -> None:
    gt_frames = list_frames(shared_path("data", "Vid4", "GT", "calendar"))
    lr_frames = list_frames(shared_path("data", "Vid4", "real_LR", folder, "calendar"))
    assert len(lr_frames) == len(gt_frames) == 41
    for gt_path, lr_path in zip(gt_frames, lr_frames):
        hr = torch.from_numpy(read_image(gt_path)).permute(2, 0, 1).double() / 255  # exact in f64
        lr = degrade(hr[None])[0]
        ours = (lr * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        assert np.array_equal(ours, read_image(lr_path)), f"{lr_path} differs"


def test_bi_is_bit_identical_to_the_tdan_lr_release():
    _real_lr_check("BIx4_TDAN", lambda x: bi(x, scale=4))


def test_tecogan_bd_is_bit_identical_to_the_official_lr_release():
    _real_lr_check("BDx4_sigma1.5_TecoGAN", lambda x: bd_tecogan(x, mode="release"))
