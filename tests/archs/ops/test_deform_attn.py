"""Guided deformable attention against a per-pixel loop written from the RVRT paper / CUDA op
semantics (bilinear sampling with zeros outside, groups over the concatenated key/value
channels, one softmax per head over every sampled key), and on the tensors of rvrt_gda_inputs.pt."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

from tests.conftest import load_fixture
from vsr.archs.ops.deform_attn import deform_attn


def bilinear_zeros(image: Tensor, y: float, x: float) -> Tensor:
    """image (C, H, W) at real (y, x); corners outside the image count as zero."""
    _, h, w = image.shape
    y0, x0 = math.floor(y), math.floor(x)
    value = image.new_zeros(image.shape[0])
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                value = value + wy * wx * image[:, yy, xx]
    return value


def naive_deform_attn(q, kv, offset, heads, groups, window=(3, 3)) -> Tensor:
    b, c, h, w = q.shape
    frames = kv.shape[1]
    kh, kw = window
    points = kh * kw
    per_group = 2 * c // groups
    head_dim = c // heads
    off = offset.reshape(b, frames, groups, points, 2, h, w)
    out = torch.zeros_like(q)
    for n in range(b):
        for i in range(h):
            for j in range(w):
                # every sampled key/value channel: frames × points samples of 2C channels
                samples = q.new_zeros(frames, points, 2 * c)
                for f in range(frames):
                    for g in range(groups):
                        chans = slice(g * per_group, (g + 1) * per_group)
                        for p in range(points):
                            y = i + p // kw - kh // 2 + float(off[n, f, g, p, 0, i, j])
                            x = j + p % kw - kw // 2 + float(off[n, f, g, p, 1, i, j])
                            samples[f, p, chans] = bilinear_zeros(kv[n, f, chans], y, x)
                samples = samples.reshape(frames * points, 2, heads, head_dim)
                for hd in range(heads):
                    query = q[n, hd * head_dim:(hd + 1) * head_dim, i, j]
                    logits = samples[:, 0, hd] @ query / math.sqrt(head_dim)
                    weights = torch.softmax(logits, 0)
                    out[n, hd * head_dim:(hd + 1) * head_dim, i, j] = weights @ samples[:, 1, hd]
    return out


def random_case(b=2, frames=2, c=8, h=5, w=6, heads=2, groups=4, scale=2.0, dtype=torch.float64):
    g = torch.Generator().manual_seed(7)
    q = torch.randn(b, c, h, w, generator=g, dtype=dtype)
    kv = torch.randn(b, frames, 2 * c, h, w, generator=g, dtype=dtype)
    offset = scale * torch.randn(b, frames * groups * 9 * 2, h, w, generator=g, dtype=dtype)
    return q, kv, offset


def test_matches_the_per_pixel_loop() -> None:
    q, kv, offset = random_case()
    ours = deform_attn(q, kv, offset, heads=2, groups=4)
    theirs = naive_deform_attn(q, kv, offset, heads=2, groups=4)
    assert (ours - theirs).abs().max() < 1e-10


def test_chunking_over_positions_changes_nothing() -> None:
    q, kv, offset = random_case(dtype=torch.float32)
    whole = deform_attn(q, kv, offset, heads=2, groups=4)
    chunked = deform_attn(q, kv, offset, heads=2, groups=4, max_elements=1)  # one position a step
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-6)


def test_zero_offsets_attend_to_the_plain_window_and_integer_offsets_shift_it() -> None:
    """With offsets of whole pixels the sampling is a gather: moving every offset one pixel right
    equals attending over kv shifted one pixel left."""
    q, kv, _ = random_case(b=1, h=6, w=7, dtype=torch.float64)
    zeros = torch.zeros(1, 2 * 4 * 9 * 2, 6, 7, dtype=torch.float64)
    right = zeros.clone().view(1, 2, 4, 9, 2, 6, 7)
    right[:, :, :, :, 1] = 1.0
    shifted_kv = torch.zeros_like(kv)
    shifted_kv[..., :-1] = kv[..., 1:]
    moved = deform_attn(q, kv, right.reshape_as(zeros), 2, 4)
    plain = deform_attn(q, shifted_kv, zeros, 2, 4)
    # column 0 differs: its left point reads kv column 0 in one, the zero padding in the other
    torch.testing.assert_close(moved[..., 1:], plain[..., 1:], rtol=0, atol=1e-12)


def test_bfloat16_follows_float32_and_gradients_flow() -> None:
    """bf16 inputs give the fp32 result of the same (rounded) inputs to bf16 precision, also far
    from the origin where bf16 could not address pixels; gradients reach q, kv and offsets."""
    q, kv, offset = random_case(b=1, h=3, w=70, dtype=torch.float32)
    low = [t.bfloat16() for t in (q, kv, offset)]
    out = deform_attn(*low, 2, 4)
    ref = deform_attn(*(t.float() for t in low), 2, 4)
    assert out.dtype == torch.bfloat16
    assert (out.float() - ref).abs().max() < 0.02
    q.requires_grad_(), kv.requires_grad_(), offset.requires_grad_()
    deform_attn(q, kv, offset, 2, 4).square().sum().backward()
    assert all(t.grad is not None and t.grad.abs().sum() > 0 for t in (q, kv, offset))


def test_rejects_mismatched_shapes() -> None:
    q, kv, offset = random_case()
    with pytest.raises(ValueError, match="offset must be"):
        deform_attn(q, kv, offset[:, :-2], 2, 4)
    with pytest.raises(ValueError, match="kv must be"):
        deform_attn(q, kv[:, :, :-1], offset, 2, 4)


def fixture_inputs() -> tuple[Tensor, Tensor, Tensor]:
    """The op's inputs as the official model passes them (top-left 8×8 crops of
    rvrt_gda_inputs.pt): q (2, 1, 288) per query frame, kv (1, 2, 576) of the clip, offsets
    (2, 432) slot-major; query frame j's slot n reads kv frame (j + n) mod 2 (the CUDA op's
    ``kv[b / clip][(n + b) % clip]``)."""
    fixture = load_fixture("rvrt_gda_inputs.pt")
    q = fixture["q_proj_crop"][:, 0]
    kv = fixture["kv_proj_crop"][0]
    per_query = torch.stack([kv[[(j + n) % 2 for n in range(2)]] for j in range(2)])
    return q, per_query, fixture["offset_crop"]


def test_official_gda_inputs_match_the_per_pixel_loop() -> None:
    heads, groups, clip = load_fixture("rvrt_gda_inputs.pt")["deform_attn_int_args"][5:]
    assert (heads, groups, clip) == (12, 12, 2)
    q, kv, offset = fixture_inputs()
    ours = deform_attn(q, kv, offset, heads, groups)
    q64, kv64, off64 = q.double(), kv.double(), offset.double()
    theirs = naive_deform_attn(q64[:, :, :4, :4], kv64[..., :4, :4], off64[..., :4, :4],
                               heads, groups)
    crop = deform_attn(q64[:, :, :4, :4], kv64[..., :4, :4], off64[..., :4, :4], heads, groups)
    assert (crop - theirs).abs().max() < 1e-10
    assert ours.shape == (2, 288, 8, 8) and torch.isfinite(ours).all()
