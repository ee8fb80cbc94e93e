"""The image operations of TecoGAN-PyTorch, which its released FRVSR/TecoGAN weights rely on.

They differ from their PyTorch look-alikes, so swapping one in changes every output:

* ``space_to_depth`` orders channels like ``tf.space_to_depth`` (sub-pixel position major), not
  like ``F.pixel_unshuffle`` (colour major).
* ``BicubicUpsampler`` (BD models) is top-left aligned like TecoGAN-TF: HR pixel ``s*i`` samples
  LR pixel ``i`` exactly, unlike the centre-aligned bicubic of PyTorch and MATLAB.
* the backward warp is ``flow_warp(..., padding_mode="border")`` of ``vsr.archs.ops.flow_warp``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Degradation = Literal["BD", "BI"]


def space_to_depth(x: Tensor, scale: int) -> Tensor:
    """(N, C, sH, sW) → (N, s²C, H, W) with channel ``(i*s + j)*C + c`` holding sub-pixel (i, j)
    of colour c."""
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // scale, scale, w // scale, scale)
    return blocks.permute(0, 3, 5, 1, 2, 4).reshape(n, scale * scale * c, h // scale, w // scale)


def keys_cubic_phases(scale: int, a: float = -0.75) -> Tensor:
    """(scale, 4) weights of the 4 LR taps i-1..i+2 for each sub-pixel phase d/scale of the Keys
    cubic convolution kernel with parameter ``a``."""
    basis = torch.tensor([[0.0, a, -2 * a, a],
                          [1.0, 0.0, -(a + 3), a + 2],
                          [0.0, -a, 2 * a + 3, -(a + 2)],
                          [0.0, 0.0, a, -a]])
    phases = torch.arange(scale, dtype=torch.float32) / scale
    powers = torch.stack([torch.ones_like(phases), phases, phases**2, phases**3])  # (4, scale)
    return (basis @ powers).T.contiguous()


class BicubicUpsampler(nn.Module):
    """Top-left aligned separable bicubic upsampling by an integer factor (TecoGAN BD).

    The phase weights are a buffer (``kernels``) because the released checkpoints store them.
    Output row ``s*i + d`` is the phase-d weighting of LR rows i-1..i+2, replicate-padded at the
    borders; columns likewise.
    """

    def __init__(self, scale: int, a: float = -0.75) -> None:
        super().__init__()
        self.scale = scale
        self.register_buffer("kernels", keys_cubic_phases(scale, a))

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        s = self.scale
        planes = F.pad(x.reshape(n * c, 1, h, w), (1, 2, 1, 2), mode="replicate")
        kernels = self.kernels.to(x.dtype)
        rows = F.conv2d(planes, kernels.view(s, 1, 4, 1))  # (nc, s, h, w + 3): phase per channel
        rows = rows.permute(0, 2, 1, 3).reshape(n * c, 1, s * h, w + 3)
        cols = F.conv2d(rows, kernels.view(s, 1, 1, 4))  # (nc, s, sh, w)
        return cols.permute(0, 2, 3, 1).reshape(n, c, s * h, s * w)


class BilinearUpsampler(nn.Module):
    """Centre-aligned bilinear upsampling (TecoGAN BI); holds no state."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)


def lr_upsampler(scale: int, degradation: Degradation) -> nn.Module:
    """The upsampler TecoGAN pairs with a degradation, for the LR residual base and LR flows."""
    if degradation == "BD":
        return BicubicUpsampler(scale)
    if degradation == "BI":
        return BilinearUpsampler(scale)
    raise ValueError(f"degradation must be 'BD' or 'BI', got {degradation!r}")
