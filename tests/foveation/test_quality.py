"""Foveated quality score and the per-depth quality table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vsr.archs.rrn import RRN
from vsr.archs.sequence import run_clip
from vsr.data.degradations import bd_duf
from vsr.foveation.quality import (
    ORIGINAL_QUALITY,
    check_table,
    depth_psnrs,
    foveated_quality,
    measure_quality_table,
    normalise,
)
from vsr.io.color import rgb_to_y
from vsr.metrics.psnr_ssim import psnr

ORIGINAL_PSNR = (31.03, 31.47, 31.83, 32.18, 32.62, 32.97, 33.32, 33.83, 34.70, 36.39)


def dense_quality(blocks, sides, resolution, table, sigma) -> float:
    """The original's dense H×W formulation, the reference for the separable one."""
    height, width = resolution
    h_eye, w_eye = height // 2, width // 2
    rows = np.arange(height)[:, None]
    cols = np.arange(width)[None, :]
    weight = np.exp(-((rows - h_eye) ** 2) / (2 * sigma**2) - (cols - w_eye) ** 2 / (2 * sigma**2))
    weight /= 2 * np.pi * sigma**2
    quality = np.zeros((height, width))
    for b, (side_h, side_w) in zip(blocks, [resolution] + [(s, s) for s in sides]):
        hh, ww = side_h // 2, side_w // 2
        quality[max(h_eye - hh, 0):h_eye + hh, max(w_eye - ww, 0):w_eye + ww] = table[b - 1]
    return float(np.sum(weight * quality))


def test_readme_example_quality() -> None:
    """The README's T = 20 ms answer scores 0.99862 under the original's compute_quality."""
    score = foveated_quality([1, 7, 10], [512, 416], (1080, 1920))
    assert score == pytest.approx(0.99862, abs=5e-6)
    assert score == pytest.approx(dense_quality([1, 7, 10], [512, 416], (1080, 1920),
                                                ORIGINAL_QUALITY, 64.0), abs=1e-12)


@pytest.mark.parametrize(
    ("blocks", "sides", "resolution", "sigma"),
    [
        ([2, 5, 9], [40, 16], (64, 96), 16.0),
        ([1, 3, 6, 10], [56, 24, 8], (64, 96), 64.0),
        ([3, 8], [200], (108, 192), 20.0),  # a region larger than the frame height is clipped
    ],
)
def test_separable_equals_dense(blocks, sides, resolution, sigma) -> None:
    got = foveated_quality(blocks, sides, resolution, ORIGINAL_QUALITY, sigma)
    assert got == pytest.approx(dense_quality(blocks, sides, resolution, ORIGINAL_QUALITY, sigma),
                                abs=1e-12)


def test_wider_sigma_lowers_score_of_small_fovea() -> None:
    narrow = foveated_quality([1, 10], [128], (1080, 1920), sigma=32)
    wide = foveated_quality([1, 10], [128], (1080, 1920), sigma=128)
    assert narrow > wide


def test_check_table_flattens_dips() -> None:
    with pytest.warns(UserWarning, match="not increasing"):
        assert check_table([0, 0.5, 0.4, 1.0], 4) == [0, 0.5, 0.5, 1.0]
    with pytest.raises(ValueError, match="depth 5"):
        check_table([0, 1], 5)


def test_normalise_reproduces_original_table() -> None:
    assert normalise(ORIGINAL_PSNR) == pytest.approx(list(ORIGINAL_QUALITY), abs=2e-3)
    with pytest.raises(ValueError, match="does not grow"):
        normalise([30.0, 29.0])


def test_depth_psnrs_last_depth_is_the_rrn() -> None:
    """PSNR after all k blocks equals the full RRN run over the clip (same state, same frames)."""
    net = RRN(4, 8, 3).eval()
    hr = torch.rand(3, 3, 32, 48)
    psnrs = depth_psnrs(net, hr)
    assert len(psnrs) == 3 and all(np.isfinite(psnrs))
    with torch.no_grad():
        sr = run_clip(net, bd_duf(hr, 4)[None])[0]
    gt_y = rgb_to_y(hr.double() * 255)
    full = np.mean([psnr(rgb_to_y(s.clamp(0, 1).double() * 255), g) for s, g in zip(sr, gt_y)])
    assert psnrs[-1] == pytest.approx(full, abs=1e-6)


def test_measure_quality_table_from_folder(tmp_path, monkeypatch) -> None:
    from vsr.io.image import write_image

    folder = tmp_path / "frames"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(folder / f"{i:03d}.png", rng.integers(0, 256, (34, 50, 3), dtype=np.uint8))
    net = RRN(4, 8, 3)
    torch.save(net.state_dict(), tmp_path / "rrn.pth")
    monkeypatch.setattr("vsr.foveation.quality.normalise", lambda p: list(p))
    table, psnrs = measure_quality_table(str(folder), str(tmp_path / "rrn.pth"), depth=3,
                                         num_channels=8, frames=2, device="cpu", progress=False)
    assert len(psnrs) == 3 and table == psnrs
