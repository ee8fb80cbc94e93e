"""MATLAB imresize bicubic: hand-derived weights, sizes, dtypes and real BI LR frames."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

from tests.conftest import shared_path
from vsr.archs.ops.matlab_resize import (
    banded_matrix,
    cubic,
    imresize,
    output_size,
    resize_matrix,
    symmetric_index,
)
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


def _per_tap_reference(x: Tensor, scale: float) -> Tensor:
    """MATLAB's imresize as its per-tap loop: for every output pixel, sum weight * input over the
    kernel taps (mirrored at the border), rows first, then columns, in float64."""
    y = x.to(torch.float64)
    for dim in (-2, -1):
        in_size = y.shape[dim]
        out_size = output_size(in_size, scale)
        width = 4.0 / scale if scale < 1 else 4.0
        u = torch.arange(1, out_size + 1, dtype=torch.float64) / scale + 0.5 * (1 - 1 / scale)
        left = torch.floor(u - width / 2)
        moved = y.movedim(dim, -1)
        acc = torch.zeros(*moved.shape[:-1], out_size, dtype=torch.float64)
        taps = [left + t for t in range(math.ceil(width) + 2)]
        weights = [scale * cubic(scale * (u - i)) if scale < 1 else cubic(u - i) for i in taps]
        total = sum(weights)
        for index, weight in zip(taps, weights):
            source = symmetric_index(index.long() - 1, in_size)
            acc += moved[..., source] * (weight / total)
        y = acc.movedim(-1, dim)
    return y.to(x.dtype)


@pytest.mark.parametrize("scale", [2.0, 3.0, 4.0, 1 / 2, 1 / 3, 1 / 4])
@pytest.mark.parametrize("shape", [(3, 37, 22), (2, 3, 16, 31), (1, 9, 64)])
def test_banded_resize_equals_per_tap_loop(shape: tuple[int, ...], scale: float) -> None:
    gen = torch.Generator().manual_seed(len(shape) * 100 + int(scale * 12))
    x32 = torch.rand(shape, generator=gen)
    assert torch.equal(imresize(x32, scale), _per_tap_reference(x32, scale))
    # float64 keeps the rounding-order difference visible: ~1 ulp, far below any uint8 step
    x64 = x32.to(torch.float64)
    assert (imresize(x64, scale) - _per_tap_reference(x64, scale)).abs().max() < 1e-15


def test_banded_matrix_reassembles_dense_matrix() -> None:
    for in_size, out_size, scale in [(37, 148, 4.0), (576, 144, 0.25), (10, 7, 0.7), (5, 3, 0.6)]:
        band = banded_matrix(in_size, out_size, scale, True, torch.device("cpu"))
        num_blocks, block, width = band.blocks.shape
        dense = torch.zeros(num_blocks * block, in_size, dtype=torch.float64)
        for b, start in enumerate(band.starts.tolist()):
            dense[b * block : (b + 1) * block, start : start + width] = band.blocks[b]
        assert torch.equal(dense[:out_size], resize_matrix(in_size, out_size, scale))
        assert dense[out_size:].abs().sum() == 0


def test_planes_resized_a_few_at_a_time_equal_all_at_once(monkeypatch) -> None:
    x = torch.rand(3, 3, 16, 31, generator=torch.Generator().manual_seed(5))
    whole = imresize(x, 4.0)
    # 64 * 31 float64 values per plane: a 20 kB budget groups 1 plane per pass, 9 passes in all
    monkeypatch.setattr("vsr.archs.ops.matlab_resize._CACHE_BYTES", 20_000)
    assert torch.equal(imresize(x, 4.0), whole)
    assert torch.equal(whole, _per_tap_reference(x, 4.0))
