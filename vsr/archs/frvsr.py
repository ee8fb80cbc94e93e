"""FRNet, the frame-recurrent generator of FRVSR (Sajjadi et al., CVPR 2018) as TecoGAN-PyTorch
builds it; TecoGAN's generator is the same network with GAN-trained weights.

Each step estimates LR flow from the current to the previous frame (FNet), upsamples it to HR,
backward-warps the previous HR output onto the current frame, folds it to LR size with the
TF-ordered ``space_to_depth`` and lets SRNet predict a residual over the upsampled LR frame. The
module tree mirrors the original (``fnet.*``, ``srnet.*``, ``upsample_func.kernels`` for BD), so
the released checkpoints (``FRVSR_BD_iter400000.pth``, ``TecoGAN_4x_BD_Vimeo_iter500K.pth``, ...)
load as they are.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsr.archs.base import FirstPrev, TemporalMode
from vsr.archs.ops.flow_warp import flow_warp
from vsr.archs.ops.tecogan import Degradation, lr_upsampler, space_to_depth
from vsr.archs.sequence import SequenceStart
from vsr.registry import ARCHS

MAX_FLOW = 24.0
"""FNet's flow is tanh-bounded to this many LR pixels."""

FLOW_MULTIPLE = 8
"""FNet pools three times, so its flow covers the largest multiple of 8 inside the frame."""


def _conv_pair(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True)]


class FNet(nn.Module):
    """LR optical flow from ``lr_curr`` to ``lr_prev`` (pixels, channel 0 = x) by an encoder of
    three pooled stages and a decoder of three bilinearly upsampled ones."""

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__()
        self.encoder1 = nn.Sequential(*_conv_pair(2 * in_channels, 32), nn.MaxPool2d(2, 2))
        self.encoder2 = nn.Sequential(*_conv_pair(32, 64), nn.MaxPool2d(2, 2))
        self.encoder3 = nn.Sequential(*_conv_pair(64, 128), nn.MaxPool2d(2, 2))
        self.decoder1 = nn.Sequential(*_conv_pair(128, 256))
        self.decoder2 = nn.Sequential(*_conv_pair(256, 128))
        self.decoder3 = nn.Sequential(*_conv_pair(128, 64))
        self.flow = nn.Sequential(nn.Conv2d(64, 32, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True),
                                  nn.Conv2d(32, 2, 3, 1, 1))

    def forward(self, lr_curr: Tensor, lr_prev: Tensor) -> Tensor:
        """Flow (N, 2, 8⌊H/8⌋, 8⌊W/8⌋) for frames (N, C, H, W)."""
        out = self.encoder3(self.encoder2(self.encoder1(torch.cat([lr_curr, lr_prev], dim=1))))
        for decoder in (self.decoder1, self.decoder2, self.decoder3):
            out = F.interpolate(decoder(out), scale_factor=2, mode="bilinear", align_corners=False)
        return torch.tanh(self.flow(out)) * MAX_FLOW


class ResidualBlock(nn.Module):
    """conv-ReLU-conv plus identity (keys ``conv.0``/``conv.2`` as in the release files)."""

    def __init__(self, num_channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(num_channels, num_channels, 3, 1, 1),
                                  nn.ReLU(inplace=True),
                                  nn.Conv2d(num_channels, num_channels, 3, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x) + x


class SRNet(nn.Module):
    """HR frame from the current LR frame and the warped previous output folded to LR size:
    residual trunk, transposed-conv ×2 stages, residual over ``upsample_func(lr_curr)``."""

    def __init__(self, scale: int, num_channels: int, num_blocks: int,
                 upsample_func: nn.Module, in_channels: int = 3) -> None:
        super().__init__()
        if scale not in (2, 4):
            raise ValueError(f"FRNet scale must be 2 or 4, got {scale}")
        self.conv_in = nn.Sequential(
            nn.Conv2d((scale * scale + 1) * in_channels, num_channels, 3, 1, 1),
            nn.ReLU(inplace=True))
        self.resblocks = nn.Sequential(*(ResidualBlock(num_channels) for _ in range(num_blocks)))
        up: list[nn.Module] = []
        for _ in range(scale // 2):
            up += [nn.ConvTranspose2d(num_channels, num_channels, 3, 2, 1, output_padding=1),
                   nn.ReLU(inplace=True)]
        self.conv_up = nn.Sequential(*up)
        self.conv_out = nn.Conv2d(num_channels, in_channels, 3, 1, 1)
        self.upsample_func = upsample_func

    def forward(self, lr_curr: Tensor, hr_prev_folded: Tensor) -> Tensor:
        out = self.conv_in(torch.cat([lr_curr, hr_prev_folded], dim=1))
        out = self.conv_out(self.conv_up(self.resblocks(out)))
        return out + self.upsample_func(lr_curr)


@ARCHS.register("FRNet")
class FRNet(nn.Module):
    """Frame-recurrent VSR generator (FRVSR and TecoGAN weights), ×4 or ×2, BD or BI.

    ``step`` returns the SR frame, the state (that frame) and the extras ``lr_flow``
    (N, 2, H, W) and ``hr_flow`` (N, 2, sH, sW) for the warping loss and TecoGAN's
    discriminator. The first step of a sequence has no previous output: SRNet gets zeros, as in
    the original (its inference warps a zero frame, which stays zero), and both flows are zero.
    Inference prepends 5 reflected frames and drops their outputs (``num_pad_front: 5``).
    """

    temporal: TemporalMode = "recurrent"
    first_prev: FirstPrev = "zeros"
    sequence_start = SequenceStart(reflect_pad=5)

    def __init__(self, scale: int = 4, degradation: Degradation = "BD", num_channels: int = 64,
                 num_blocks: int = 10) -> None:
        super().__init__()
        self.scale = scale
        self.degradation = degradation
        self.upsample_func = lr_upsampler(scale, degradation)
        self.fnet = FNet()
        self.srnet = SRNet(scale, num_channels, num_blocks, self.upsample_func)
        # oneDNN runs the transposed convs several times faster with channels-last weights (the
        # whole step 1.9x at LR 134x320 on CPU, scripts/bench_frvsr.py); values and keys are
        # unchanged, and each step's SR frame is returned contiguous.
        self.to(memory_format=torch.channels_last)

    def hr_flow(self, lr_flow: Tensor) -> Tensor:
        """LR flow upsampled to HR size and HR pixels."""
        return self.scale * self.upsample_func(lr_flow)

    def lr_flow(self, lr_curr: Tensor, lr_prev: Tensor) -> Tensor:
        """FNet's flow reflect-padded at the bottom/right to the full frame size."""
        h, w = lr_curr.shape[-2:]
        if h < FLOW_MULTIPLE or w < FLOW_MULTIPLE:
            raise ValueError(f"FRNet needs LR frames of at least {FLOW_MULTIPLE}x{FLOW_MULTIPLE} "
                             f"pixels, got {h}x{w}")
        flow = self.fnet(lr_curr, lr_prev)
        pad_h, pad_w = h - flow.shape[-2], w - flow.shape[-1]
        return F.pad(flow, (0, pad_w, 0, pad_h), mode="reflect") if pad_h or pad_w else flow

    def step(self, lr_prev: Tensor, lr_curr: Tensor,
             state: Tensor | None = None) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """SR of ``lr_curr`` (N, 3, sH, sW), the state for the next step and the flows."""
        n, c, h, w = lr_curr.shape
        s = self.scale
        if state is None:
            lr_flow = lr_curr.new_zeros(n, 2, h, w)
            hr_flow = lr_curr.new_zeros(n, 2, s * h, s * w)
            folded = lr_curr.new_zeros(n, s * s * c, h, w)
        else:
            lr_flow = self.lr_flow(lr_curr, lr_prev)
            hr_flow = self.hr_flow(lr_flow)
            folded = space_to_depth(flow_warp(state, hr_flow, padding_mode="border"), s)
        sr = self.srnet(lr_curr, folded).contiguous()
        return sr, sr, {"lr_flow": lr_flow.contiguous(), "hr_flow": hr_flow.contiguous()}
