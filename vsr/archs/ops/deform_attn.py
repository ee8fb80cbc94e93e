"""Guided deformable attention (RVRT, Liang et al. 2022) in pure PyTorch: a grid_sample
replacement for RVRT's CUDA-only ``deform_attn`` op.

Each query pixel attends to ``frames × kh·kw`` keys sampled bilinearly (zeros outside the frame)
at its kh×kw window plus learned offsets. The concatenated key/value channels (2C) are split into
``groups`` equal parts, each with its own offsets (with 12 groups over 576 channels, groups 0-5
sample the keys and 6-11 the values, as in the CUDA op); queries are split into ``heads`` of C /
heads channels, scaled by head_dim^-0.5, with one softmax over all sampled keys of the head.
Positions are processed in chunks so the sampled tensor stays under ``max_elements``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

DEFAULT_MAX_ELEMENTS = 2**26


def deform_attn(q: Tensor, kv: Tensor, offset: Tensor, heads: int, groups: int,
                window: tuple[int, int] = (3, 3),
                max_elements: int = DEFAULT_MAX_ELEMENTS) -> Tensor:
    """Attention output (B, C, H, W).

    ``q`` (B, C, H, W): projected queries. ``kv`` (B, F, 2C, H, W): projected keys then values of
    the F frames each query looks at. ``offset`` (B, F·groups·kh·kw·2, H, W): per frame, group
    and window point (row-major), the (dy, dx) added to that point's position.
    """
    b, c, h, w = q.shape
    if kv.dim() != 5 or kv.shape[0] != b or kv.shape[2] != 2 * c or kv.shape[3:] != (h, w):
        raise ValueError(f"kv must be (B, F, 2C, H, W) for q {tuple(q.shape)}, "
                         f"got {tuple(kv.shape)}")
    frames = kv.shape[1]
    points = window[0] * window[1]
    if c % heads or (2 * c) % groups:
        raise ValueError(f"{c} query channels / {2 * c} key-value channels do not split into "
                         f"{heads} heads / {groups} groups")
    if offset.shape != (b, frames * groups * points * 2, h, w):
        raise ValueError(f"offset must be {(b, frames * groups * points * 2, h, w)}, "
                         f"got {tuple(offset.shape)}")
    head_dim = c // heads
    area = h * w
    # positions and sampling in at least fp32: bf16 cannot address pixels beyond ~32 exactly
    exact = torch.promote_types(kv.dtype, torch.float32)
    sources = kv.reshape(b * frames * groups, 2 * c // groups, h, w).to(exact)
    offset = offset.reshape(b, frames, groups, points, 2, area).to(exact)
    queries = q.reshape(b, heads, head_dim, area) * head_dim ** -0.5
    # base sampling positions: pixel + window point, the window centred on the pixel
    dy, dx = torch.meshgrid(torch.arange(window[0]) - window[0] // 2,
                            torch.arange(window[1]) - window[1] // 2, indexing="ij")
    pix_y, pix_x = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    base_y = (pix_y.reshape(1, area) + dy.reshape(points, 1)).to(offset)
    base_x = (pix_x.reshape(1, area) + dx.reshape(points, 1)).to(offset)
    per_position = b * frames * 2 * c * points
    step = max(1, max_elements // per_position)
    out = q.new_empty(b, heads, head_dim, area)
    for start in range(0, area, step):
        span = slice(start, min(start + step, area))
        y = base_y[:, span] + offset[:, :, :, :, 0, span]  # (B, F, G, P, L)
        x = base_x[:, span] + offset[:, :, :, :, 1, span]
        # pixel -> grid_sample coordinate with align_corners=False (valid for any size, even 1)
        grid = torch.stack(((2 * x + 1) / w - 1, (2 * y + 1) / h - 1), dim=-1)
        grid = grid.reshape(b * frames * groups, points, -1, 2)
        sampled = F.grid_sample(sources, grid, mode="bilinear", padding_mode="zeros",
                                align_corners=False).to(kv.dtype)  # (B·F·G, 2C/G, P, L)
        sampled = sampled.reshape(b, frames, 2, heads, head_dim, points, -1)
        keys, values = sampled[:, :, 0], sampled[:, :, 1]  # (B, F, heads, d, P, L)
        logits = torch.einsum("bhdl,bfhdpl->bhfpl", queries[..., span], keys)
        attn = logits.flatten(2, 3).softmax(dim=2, dtype=exact).to(values.dtype)
        attn = attn.reshape(logits.shape)
        out[..., span] = torch.einsum("bhfpl,bfhdpl->bhdl", attn, values)
    return out.reshape(b, c, h, w)
