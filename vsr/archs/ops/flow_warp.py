"""Backward warping by a dense optical flow, shared by every flow-based model (SpyNet, RVRT, ...).

The flow is in pixels, (N, 2, H, W) with channel 0 = x (horizontal) and 1 = y; the output at a
pixel is the input bilinearly sampled at that pixel + flow. Pixel centres are the sampling grid
(``align_corners=True`` over pixel indices), as BasicSR/RVRT's ``flow_warp`` does.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

PaddingMode = Literal["zeros", "border", "reflection"]


def flow_warp(x: Tensor, flow: Tensor, padding_mode: PaddingMode = "zeros",
              mode: Literal["bilinear", "nearest"] = "bilinear") -> Tensor:
    """``x`` (N, C, H, W) sampled at pixel + ``flow`` (N, 2, H, W); outside samples follow
    ``padding_mode``."""
    if flow.dim() != 4 or flow.shape[1] != 2 or flow.shape[2:] != x.shape[2:] or \
            flow.shape[0] != x.shape[0]:
        raise ValueError(f"flow must be (N, 2, H, W) matching x {tuple(x.shape)}, "
                         f"got {tuple(flow.shape)}")
    _, _, h, w = x.shape
    ys = torch.arange(h, dtype=flow.dtype, device=flow.device).view(h, 1)
    xs = torch.arange(w, dtype=flow.dtype, device=flow.device).view(1, w)
    grid_x = 2.0 * (xs + flow[:, 0]) / max(w - 1, 1) - 1.0
    grid_y = 2.0 * (ys + flow[:, 1]) / max(h - 1, 1) - 1.0
    grid = torch.stack((grid_x, grid_y), dim=3).to(x.dtype)
    return F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=True)
