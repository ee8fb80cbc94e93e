"""TecoGAN-PyTorch's image ops against tecogan_ops.pt (net_utils.py run on the stored inputs)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tests.conftest import load_fixture
from vsr.archs.ops.flow_warp import flow_warp
from vsr.archs.ops.tecogan import (
    BicubicUpsampler,
    lr_upsampler,
    space_to_depth,
)


@pytest.fixture(scope="module")
def ops() -> dict:
    return load_fixture("tecogan_ops.pt")


@pytest.mark.parametrize("scale", [4, 2])
def test_space_to_depth_is_tf_ordered_and_exact(ops: dict, scale: int) -> None:
    out = space_to_depth(ops["s2d_input"], scale)
    assert torch.equal(out, ops[f"s2d_x{scale}"])
    assert not torch.equal(out, F.pixel_unshuffle(ops["s2d_input"], scale))


def test_space_to_depth_channel_layout() -> None:
    x = torch.arange(2 * 4 * 4, dtype=torch.float32).view(1, 2, 4, 4)
    out = space_to_depth(x, 2)
    # sub-pixel (i, j) = (0, 1) of colour 1 is channel (0*2 + 1)*2 + 1 = 3
    assert torch.equal(out[0, 3], x[0, 1, 0::2, 1::2])


@pytest.mark.parametrize("scale", [4, 2])
def test_bicubic_upsampler_matches_tecogan(ops: dict, scale: int) -> None:
    up = BicubicUpsampler(scale)
    torch.testing.assert_close(up.kernels, ops[f"bicubic_kernels_x{scale}"], rtol=0, atol=1e-7)
    out = up(ops["bicubic_input"])
    torch.testing.assert_close(out, ops[f"bicubic_up_x{scale}"], rtol=0, atol=1e-6)
    # top-left aligned: HR pixel (s*i, s*j) is LR pixel (i, j)
    torch.testing.assert_close(out[..., ::scale, ::scale], ops["bicubic_input"], rtol=0,
                               atol=1e-6)


def test_bilinear_upsampler_is_the_bi_upsample(ops: dict) -> None:
    out = lr_upsampler(4, "BI")(ops["bicubic_input"])
    torch.testing.assert_close(out, ops["bilinear_up_x4"], rtol=0, atol=1e-6)


def test_unknown_degradation_is_refused() -> None:
    with pytest.raises(ValueError, match="'BD' or 'BI'"):
        lr_upsampler(4, "BN")


def test_backward_warp_matches_tecogan(ops: dict) -> None:
    out = flow_warp(ops["warp_input"], ops["warp_flow"], padding_mode="border")
    torch.testing.assert_close(out, ops["backward_warp"], rtol=0, atol=1e-5)


def test_backward_warp_shifts_by_whole_pixels_and_clamps_at_the_border() -> None:
    x = torch.rand(1, 3, 5, 6)
    flow = torch.zeros(1, 2, 5, 6)
    flow[:, 0] = 1.0  # sample one pixel to the right
    out = flow_warp(x, flow, padding_mode="border")
    torch.testing.assert_close(out[..., :-1], x[..., 1:], rtol=0, atol=1e-6)
    torch.testing.assert_close(out[..., -1], x[..., -1], rtol=0, atol=1e-6)
