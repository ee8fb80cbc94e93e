"""Degradations against the parity fixture (original RRN/TecoGAN code) and real released LR."""

from __future__ import annotations

import math

import pytest
import torch

from tests.conftest import load_fixture, shared_path
from vsr.data.degradations import blur_sample_matrix, gaussian_kernel1d, gaussian_kernel2d
from vsr.io.image import list_frames, read_image
from vsr.registry import DEGRADATIONS


def _clip_from_uint8(frames: torch.Tensor) -> torch.Tensor:
    """(T, H, W, C) uint8 → (T, C, H, W) float32 in [0, 1], as the original loaders do."""
    return frames.permute(0, 3, 1, 2).to(torch.float32) / 255


def _read_clip(*parts: str) -> torch.Tensor:
    frames = [torch.from_numpy(read_image(p)) for p in list_frames(shared_path(*parts))]
    return torch.stack(frames).permute(0, 3, 1, 2)


@pytest.fixture(scope="module")
def bd_fixture() -> dict:
    return load_fixture("degradation_bd.pt")


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_duf_matches_fixture(bd_fixture: dict, scale: int) -> None:
    hr = _clip_from_uint8(bd_fixture["gt_uint8"])
    lr = DEGRADATIONS.build({"type": "BD_DUF", "scale": scale}, clip=hr)
    ref = bd_fixture[f"duf_lr_x{scale}"].transpose(0, 1)  # stored (C, T, h, w)
    assert lr.shape == ref.shape and lr.dtype == torch.float32
    assert (lr - ref).abs().max() < 1e-6


def test_duf_x3_keeps_extra_row_quirk(bd_fixture: dict) -> None:
    lr = DEGRADATIONS.get("BD_DUF")(_clip_from_uint8(bd_fixture["gt_uint8"]), scale=3)
    assert lr.shape[-2:] == (49, 61)  # 144 // 3 + 1, 180 // 3 + 1


def test_rrn_padded_matches_fixture(bd_fixture: dict) -> None:
    hr = _clip_from_uint8(bd_fixture["gt_uint8"])
    lr = DEGRADATIONS.get("BD_DUF")(hr, scale=4, hr_reflect_pad=8)
    ref = bd_fixture["rrn_lr_x4_padded"].transpose(0, 1)
    assert lr.shape == ref.shape == (3, 3, 40, 49)
    assert (lr - ref).abs().max() < 1e-6


def test_kernels_match_fixture(bd_fixture: dict) -> None:
    duf = gaussian_kernel2d(13, 1.6, truncate=4.0)
    assert (duf - bd_fixture["duf_kernel_x4"]).abs().max() < 1e-15
    teco = bd_fixture["tecogan_kernel"]
    assert (teco[0, 0].double() - gaussian_kernel2d(9, 1.5)).abs().max() < 1e-8
    assert teco[0, 1].abs().max() == 0  # per-channel (diagonal) kernel


@pytest.mark.parametrize(
    ("mode", "key"), [("test", "tecogan_bd_test_float"), ("train", "tecogan_bd_train_float")]
)
def test_tecogan_float_matches_fixture(bd_fixture: dict, mode: str, key: str) -> None:
    lr = DEGRADATIONS.get("BD_TecoGAN")(_clip_from_uint8(bd_fixture["gt_uint8"]), mode=mode)
    ref = bd_fixture[key]
    assert lr.shape == ref.shape
    assert (lr - ref).abs().max() < 1e-6


def test_tecogan_png_matches_fixture_exactly(bd_fixture: dict) -> None:
    lr = DEGRADATIONS.get("BD_TecoGAN")(_clip_from_uint8(bd_fixture["gt_uint8"]), mode="png")
    ref = bd_fixture["tecogan_bd_png_uint8"].permute(0, 3, 1, 2)
    assert torch.equal(torch.round(lr * 255).to(torch.uint8), ref)


def test_tecogan_release_is_bit_identical_to_official_lr() -> None:
    hr = _read_clip("data", "Vid4", "GT", "calendar")
    ref = _read_clip("data", "Vid4", "real_LR", "BDx4_sigma1.5_TecoGAN", "calendar")
    lr = DEGRADATIONS.get("BD_TecoGAN")(hr.to(torch.float32) / 255, mode="release")
    assert len(hr) == 41
    assert torch.equal(torch.round(lr * 255).to(torch.uint8), ref)


def test_bi_is_bit_identical_to_matlab_lr() -> None:
    hr = _read_clip("data", "Vid4", "GT", "calendar")
    ref = _read_clip("data", "Vid4", "real_LR", "BIx4_TDAN", "calendar")
    bi = DEGRADATIONS.get("BI")
    # float64 input: float32 k/255 is off by ~1e-8 and flips a few roundings at .5 ties
    lr = torch.cat([bi(hr[t : t + 8].to(torch.float64) / 255) for t in range(0, len(hr), 8)])
    assert lr.shape == ref.shape == (41, 3, 144, 180)
    assert torch.equal(torch.round(lr * 255).to(torch.uint8), ref)
    unrounded = bi(hr[:1].to(torch.float64) / 255, round_to_uint8=False)
    assert 0 < (unrounded.clamp(0, 1) * 255 - ref[:1]).abs().max() <= 0.5


def test_bd_matlab_uses_fspecial_12_and_phase_one() -> None:
    # MATLAB fspecial('gaussian', 12, 1.6) on the grid -5.5:5.5, computed here independently
    grid = torch.arange(12, dtype=torch.float64) - 5.5
    fspecial = torch.exp(-(grid[:, None] ** 2 + grid[None, :] ** 2) / (2 * 1.6**2))
    fspecial /= fspecial.sum()
    hr = torch.zeros(1, 1, 40, 40, dtype=torch.float64)
    hr[0, 0, 21, 18] = 1.0  # rows 1, 5, 9, ... are sampled: LR row 5 ↔ HR rows 16..27
    lr = DEGRADATIONS.get("BD_MATLAB")(hr * 1.0)
    assert lr.shape == (1, 1, 10, 10)
    # imfilter: out(i) = sum_k h[k] * in(i + k - 5), so LR(5, 4) sees the impulse at tap
    # (21 - 21 + 5, 18 - 17 + 5) = (5, 6)
    assert lr[0, 0, 5, 4] == torch.floor(fspecial[5, 6] * 255 + 0.5) / 255
    const = DEGRADATIONS.get("BD_MATLAB")(torch.full((2, 3, 24, 36), 100 / 255))
    assert torch.allclose(const * 255, torch.full_like(const, 100.0))


@pytest.mark.parametrize("border", ["reflect", "symmetric", "replicate"])
def test_generic_bd_borders_and_phase(border: str) -> None:
    kernel = gaussian_kernel1d(5, 1.0)
    mat = blur_sample_matrix(10, kernel, stride=2, phase=0, border=border)
    assert mat.shape == (5, 10)
    assert torch.allclose(mat.sum(1), torch.ones(5, dtype=torch.float64))
    # taps of the first row land on HR -2..2 mapped by the border rule
    first = {"reflect": [2, 1, 0, 1, 2], "symmetric": [1, 0, 0, 1, 2], "replicate": [0, 0, 0, 1, 2]}
    expected = torch.zeros(10, dtype=torch.float64)
    expected.index_add_(0, torch.tensor(first[border]), kernel)
    assert torch.allclose(mat[0], expected, atol=1e-15)
    lr = DEGRADATIONS.get("BD")(torch.rand(2, 3, 17, 23), scale=4, border=border, phase=1)
    assert lr.shape == (2, 3, math.ceil(16 / 4), math.ceil(22 / 4))
    assert torch.equal(lr, torch.round(lr * 255) / 255)


def test_float_input_dtype_is_kept() -> None:
    hr = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    for name in ("BI", "BD", "BD_DUF", "BD_MATLAB", "BD_TecoGAN"):
        assert DEGRADATIONS.get(name)(hr).dtype == torch.float64


def test_no_degradation_hands_the_hr_frames_to_models_that_make_their_own_lr() -> None:
    from vsr.data.degradation_spec import make_degradation

    clip = torch.rand(3, 3, 8, 12, dtype=torch.float64)
    assert torch.equal(make_degradation({"type": "none"}, scale=1)(clip), clip)
    with pytest.raises(ValueError, match="dataset scale must be 1, got 4"):
        make_degradation("none", scale=4)(clip)
