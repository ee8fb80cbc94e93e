"""VSRNet with FlowNet2-SD motion compensation as NVIDIA's NVVL example trains it
(NVIDIA/nvvl examples/pytorch_superres model/model.py, after Makansi et al., GCPR 2017;
MODELS.md §6.1).

A window of an odd number of RGB frames becomes the centre frame's SR:

1. Y, Cb, Cr by full-range JPEG YCbCr; the network sees Y only, colour comes from the centre
   frame's Cb/Cr.
2. The interpolated LR input: ``lr_input="simulate"`` (the original) takes HR frames and makes the
   LR itself by 4×4 average pooling then bilinear ×4 (input and output have the same size:
   ``scale`` 1 to the framework); ``lr_input="dataset"`` takes LR frames from a dataset (BI/BD
   ×4, ``scale`` 4) and bilinearly upsamples them ×4.
3. Each neighbour's interpolated Y is backward-warped onto the centre frame by the flow of the
   frozen FlowNetSD (finest flow ×4 bilinear / 16, border padding); FlowNetSD sees the pair
   (centre, neighbour) of HR RGB — with ``lr_input="dataset"`` the upsampled LR RGB — minus the
   clip's per-channel mean, /255.
4. A 9×9 conv (+BN, LReLU 0.1) shared by all frames, concatenation, 5×5 (+BN, LReLU), 5×5,
   sigmoid: the centre Y in [0, 1]; RGB = inverse YCbCr of (Y, interpolated Cb, Cr).

``align_corners`` chooses the interpolation convention of the bilinear upsamplings and of the
warp: True is PyTorch ≤ 0.3's, under which the original was written and trained (its Docker image
is PyTorch 18.03); False is what the same code computes on current PyTorch. Both reproduce the
parity fixture. Keys are the original's (``FlowNetSD_network.*``, ``conv1.{0,1}``,
``conv2.{0,1}``, ``conv3``), so a VSRNet state dict saved by NVVL loads strictly.
"""

from __future__ import annotations

from typing import Annotated, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsr.archs.base import TemporalMode
from vsr.archs.ops.flow_warp import flow_warp
from vsr.archs.ops.flownet_sd import FlowNetSD
from vsr.archs.pretrained import load_frozen
from vsr.config.schema import LocalFile, PositiveInt
from vsr.registry import ARCHS

LRInput = Literal["simulate", "dataset"]
FACTOR = 4
"""The LR factor of VSRNet: 4×4 pooling (simulate) or ×4 data (dataset), bilinear ×4 back."""

FLOW_DIVISOR = 16.0
"""NVVL divides the ×4-upsampled flow2 by 16 (FlowNet's flow is ×20 its pixels at ¼ size)."""

# JPEG full-range YCbCr on [0, 255] (nvvl model.py rgb2ycbcr / ycbcr2rgb)
_TO_CB = (-0.1687346, -0.331264, 0.5)
_TO_CR = (0.5, -0.418688, -0.081312)


def rgb_to_ycbcr(rgb: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Y, Cb, Cr planes (…, 1, H, W) of RGB (…, 3, H, W) on [0, 255]; Cb/Cr centred at 128."""
    r, g, b = rgb.unbind(dim=-3)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 + _TO_CB[0] * r + _TO_CB[1] * g + _TO_CB[2] * b
    cr = 128 + _TO_CR[0] * r + _TO_CR[1] * g + _TO_CR[2] * b
    return y.unsqueeze(-3), cb.unsqueeze(-3), cr.unsqueeze(-3)


def ycbcr_to_rgb(y: Tensor, cb: Tensor, cr: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_ycbcr` on [0, 255] planes (…, 1, H, W) → (…, 3, H, W)."""
    r = y + 1.402 * (cr - 128)
    g = y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128)
    b = y + 1.772 * (cb - 128)
    return torch.cat((r, g, b), dim=-3)


def _conv_bn(cin: int, cout: int, kernel: int) -> nn.Sequential:
    """Conv (no bias) + BatchNorm + LeakyReLU(0.1): nvvl's ``conv(batchNorm=True, ...)``."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, 1, kernel // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.LeakyReLU(0.1, inplace=True))


@ARCHS.register("VSRNet")
class VSRNet(nn.Module):
    """Centre-frame SR of an odd window (N, T, 3, H, W) in [0, 1] → (N, 3, sH, sW).

    ``flownet_weights`` names the released ``FlowNet2-SD_checkpoint.pth.tar`` (loaded strictly,
    then frozen); without it FlowNetSD keeps its random initialisation (frozen too: shapes and
    tests only). ``motion_compensation=False`` leaves FlowNetSD out and feeds the neighbours
    unwarped. ``forward_details`` also returns the intermediate tensors (flows, warped Y).
    """

    temporal: TemporalMode = "window"

    def __init__(
        self,
        num_frames: PositiveInt = 3,
        lr_input: LRInput = "simulate",
        flownet_weights: Annotated[str | None, LocalFile("FlowNet2-SD checkpoint")] = None,
        motion_compensation: bool = True,
        align_corners: bool = True,
    ) -> None:
        super().__init__()
        if num_frames % 2 == 0:
            raise ValueError(f"VSRNet needs an odd number of frames (a centre frame), got "
                             f"num_frames={num_frames}")
        if lr_input not in ("simulate", "dataset"):
            raise ValueError(f"lr_input must be 'simulate' or 'dataset', got {lr_input!r}")
        if flownet_weights is not None and not motion_compensation:
            raise ValueError("flownet_weights given but motion_compensation is false: FlowNetSD "
                             "would not be used")
        self.num_frames = num_frames
        self.lr_input = lr_input
        self.scale = 1 if lr_input == "simulate" else FACTOR
        self.align_corners = align_corners
        self.motion_compensation = motion_compensation
        if motion_compensation:
            self.FlowNetSD_network = load_frozen(FlowNetSD(), flownet_weights)
        self.conv1 = _conv_bn(1, 64, 9)
        self.conv2 = _conv_bn(64 * num_frames, 32, 5)
        self.conv3 = nn.Conv2d(32, 1, 5, 1, 2, bias=True)
        nn.init.normal_(self.conv3.weight, 0.0, 0.1)

    def _upsample(self, x: Tensor) -> Tensor:
        return F.interpolate(x, scale_factor=FACTOR, mode="bilinear",
                             align_corners=self.align_corners)

    def _interpolated(self, x: Tensor) -> Tensor:
        """The network's input resolution: ÷4 pooled then ×4 (simulate), or ×4 (dataset)."""
        if self.lr_input == "simulate":
            x = F.avg_pool2d(x, FACTOR)
        return self._upsample(x)

    def _warp(self, y: Tensor, flow2: Tensor) -> Tensor:
        """``y`` (N, 1, H, W) backward-warped by the ×4-upsampled flow2 / 16 (border padding).

        NVVL adds the flow (in grid units) to a ``linspace(-1, 1)`` grid; under
        ``align_corners=False`` that grid point lies at pixel ``(x + f)·W/(W−1) − ½``, which is
        expressed here as the equivalent pixel flow for the one shared ``flow_warp``."""
        flow = self._upsample(flow2) / FLOW_DIVISOR
        if not self.align_corners:
            h, w = y.shape[-2:]
            xs = torch.arange(w, dtype=flow.dtype, device=flow.device).view(1, w)
            ys = torch.arange(h, dtype=flow.dtype, device=flow.device).view(h, 1)
            fx = (xs + flow[:, 0]) * (w / max(w - 1, 1)) - 0.5 - xs
            fy = (ys + flow[:, 1]) * (h / max(h - 1, 1)) - 0.5 - ys
            flow = torch.stack((fx, fy), dim=1)
        return flow_warp(y, flow, padding_mode="border")

    def _check(self, x: Tensor) -> None:
        if x.dim() != 5 or x.shape[2] != 3:
            raise ValueError(f"VSRNet takes RGB windows (N, T, 3, H, W), got {tuple(x.shape)}")
        if x.shape[1] != self.num_frames:
            raise ValueError(f"VSRNet was built for {self.num_frames} frames, got a window of "
                             f"{x.shape[1]}")
        if self.lr_input == "simulate" and (x.shape[-2] % FACTOR or x.shape[-1] % FACTOR):
            raise ValueError(f"VSRNet's ÷{FACTOR} pooling needs frame sizes that are multiples "
                             f"of {FACTOR}, got {x.shape[-2]}x{x.shape[-1]}")

    def forward_details(self, x: Tensor) -> dict[str, Tensor | list[Tensor]]:
        """``rgb`` (N, 3, sH, sW) in [0, 1], ``y`` (N, 1, sH, sW) the sigmoid output, ``y_in``
        the interpolated Y of every frame (N, T, 1, sH, sW), ``flow2`` and ``warped`` per
        neighbour (frame order, centre left out)."""
        self._check(x)
        n, t = x.shape[:2]
        centre = t // 2
        rgb = x * 255
        y, cb, cr = rgb_to_ycbcr(rgb)
        y_in = self._interpolated((y / 255).flatten(0, 1)).unflatten(0, (n, t))
        hr_rgb = rgb if self.lr_input == "simulate" else \
            self._upsample(rgb.flatten(0, 1)).unflatten(0, (n, t))
        flows, warped, frames = [], [], []
        if self.motion_compensation:
            mean = hr_rgb.mean(dim=(1, 3, 4), keepdim=True)  # per clip and channel
            normed = (hr_rgb - mean) / 255
        for f in range(t):
            frame = y_in[:, f]
            if f != centre and self.motion_compensation:
                flow2 = self.FlowNetSD_network(torch.cat((normed[:, centre], normed[:, f]), 1))
                frame = self._warp(frame, flow2)
                flows.append(flow2)
                warped.append(frame)
            frames.append(frame)
        # one conv shared by the frames, called per frame as the original (BatchNorm statistics)
        feats = torch.cat([self.conv1(frame) for frame in frames], 1)
        out = torch.sigmoid(self.conv3(self.conv2(feats)))
        cb_c, cr_c = (self._interpolated(p[:, centre]) for p in (cb, cr))
        rgb_out = ycbcr_to_rgb(out * 255, cb_c, cr_c)
        if not self.training:  # training keeps RGB unclamped so the Y of the output is ``y``
            rgb_out = rgb_out.clamp(0, 255)
        return {"rgb": rgb_out / 255, "y": out, "y_in": y_in, "flow2": flows, "warped": warped}

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_details(x)["rgb"]
