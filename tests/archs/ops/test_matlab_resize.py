"""MATLAB imresize bicubic: hand-derived weights, sizes, dtypes and real BI LR frames."""

from __future__ import annotations

import torch

from tests.conftest import shared_path
from vsr.archs.ops.matlab_resize import cubic, imresize, resize_matrix
from vsr.io.image import list_frames, read_image


def test_cubic_is_keys_a_minus_half() -> None:
    x = torch.tensor([0.0, 0.25, 0.75, 1.0, 1.25, 1.75, 2.0, 2.5], dtype=torch.float64)
    expected = [1.0, 0.8671875, 0.2265625, 0.0, -0.0703125, -0.0234375, 0.0, 0.0]
    assert torch.equal(cubic(x), torch.tensor(expected, dtype=torch.float64))


def test_downscale_half_interior_weights_are_antialiased() -> None:
    # kernel widened to 8 taps: 0.5 * cubic(0.5 * d) at d = ±0.5, ±1.5, ±2.5, ±3.5
    row = resize_matrix(32, 16, 0.5)[8]  # u = 17.5 (1-based): taps 14..21
    half = [-0.01171875, -0.03515625, 0.11328125, 0.43359375]
    expected = torch.zeros(32, dtype=torch.float64)
    expected[13:21] = torch.tensor(half + half[::-1], dtype=torch.float64)
    assert torch.allclose(row, expected, atol=1e-15, rtol=0)


def test_upscale_two_first_row_mirrors_symmetric_border() -> None:
    # u = 0.75: taps at 1-based -2..3 fold onto pixels 3, 2, 1 | 1, 2, 3
    row = resize_matrix(10, 20, 2.0)[0]
    assert torch.allclose(row[:3], torch.tensor([1.09375, -0.09375, 0.0], dtype=torch.float64))
    assert row[3:].abs().max() == 0


def test_rows_sum_to_one_and_constant_is_preserved() -> None:
    for in_size, scale in [(576, 1 / 4), (480, 1 / 3), (90, 1 / 2), (36, 2.0), (37, 3.0), (9, 4.0)]:
        out = round(in_size * scale + 0.4999)
        mat = resize_matrix(in_size, out, scale)
        assert torch.allclose(mat.sum(1), torch.ones(out, dtype=torch.float64), atol=1e-12)
    x = torch.full((2, 3, 24, 36), 0.3, dtype=torch.float32)
    for scale in (1 / 4, 1 / 3, 1 / 2, 2.0, 3.0, 4.0):
        y = imresize(x, scale)
        assert y.dtype == torch.float32
        assert torch.allclose(y, torch.full_like(y, 0.3), atol=1e-6)


def test_output_sizes_follow_matlab_ceil() -> None:
    x = torch.rand(3, 576, 720, dtype=torch.float64)
    assert imresize(x, 1 / 3).shape == (3, 192, 240)
    assert imresize(x, 1 / 4).shape == (3, 144, 180)
    assert imresize(torch.rand(1, 37, 22), 1 / 4).shape == (1, 10, 6)
    assert imresize(torch.rand(1, 10, 7), 3.0).shape == (1, 30, 21)
    assert imresize(x, size=(100, 50)).shape == (3, 100, 50)


def test_matches_real_matlab_lr_frames() -> None:
    gt_dir = shared_path("data", "Vid4", "GT", "calendar")
    lr_dir = shared_path("data", "Vid4", "real_LR", "BIx4_TDAN", "calendar")
    for gt_path, lr_path in list(zip(list_frames(gt_dir), list_frames(lr_dir)))[:3]:
        gt = torch.from_numpy(read_image(gt_path)).permute(2, 0, 1).to(torch.float64) / 255
        lr = torch.from_numpy(read_image(lr_path)).permute(2, 0, 1).to(torch.float64)
        ours = torch.floor(imresize(gt, 1 / 4).clamp(0, 1) * 255 + 0.5)
        assert torch.equal(ours, lr)
