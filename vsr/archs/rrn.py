"""RRN, the Recurrent Residual Network of Isobe et al. (BMVC 2020), and the trunk FOCAS reuses.

Each step sees the previous and current LR frames, the carried hidden state and the previous HR
output (pixel-unshuffled back to LR size), runs conv_1 and a stack of residual blocks, and turns the
trunk features into a new hidden state and an HR residual over a bilinear upsample. The module
tree (``neuro.conv_1``, ``neuro.recon_trunk.{i}.conv1/conv2``, ``neuro.conv_h``, ``neuro.conv_o``)
mirrors the original, so the released checkpoints load as they are
(``load_weights`` strips their DataParallel ``module.`` prefix).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsr.archs.base import FirstPrev, TemporalMode
from vsr.registry import ARCHS

RRNState = tuple[Tensor, Tensor]
"""(hidden state at LR size, previous HR output) carried from one step to the next."""

class ResidualBlockNoBN(nn.Module):
    """conv-ReLU-conv plus identity, without normalisation (the RRN trunk unit)."""

    def __init__(self, num_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_channels, num_channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_channels, num_channels, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(F.relu(self.conv1(x), inplace=True))


class RRNTrunk(nn.Module):
    """The weights and stages of one RRN step, split so FOCAS can run the blocks per region.

    A step is ``heads(blocks(features(...), 0, n), lr_curr)``; FOCAS runs ``blocks`` on nested
    crops between ``features`` and ``heads``.
    """

    def __init__(self, scale: int, num_channels: int, num_blocks: int) -> None:
        super().__init__()
        self.scale = scale
        self.num_channels = num_channels
        out_channels = 3 * scale * scale
        self.conv_1 = nn.Conv2d(6 + num_channels + out_channels, num_channels, 3, 1, 1)
        self.recon_trunk = nn.ModuleList(ResidualBlockNoBN(num_channels) for _ in range(num_blocks))
        self.conv_h = nn.Conv2d(num_channels, num_channels, 3, 1, 1)
        self.conv_o = nn.Conv2d(num_channels, out_channels, 3, 1, 1)

    def features(self, lr_prev: Tensor, lr_curr: Tensor, state: RRNState | None) -> Tensor:
        """conv_1 + ReLU over [previous LR, current LR, hidden, unshuffled previous output].

        A sequence starts from zero hidden and zero output at LR size, as the original does.
        """
        if state is None:
            n, _, h, w = lr_curr.shape
            hidden = lr_curr.new_zeros(n, self.num_channels, h, w)
            prev_out = lr_curr.new_zeros(n, self.conv_o.out_channels, h, w)
        else:
            hidden, prev_sr = state
            prev_out = F.pixel_unshuffle(prev_sr, self.scale)
        x = torch.cat((lr_prev, lr_curr, hidden, prev_out), dim=1)
        return F.relu(self.conv_1(x), inplace=True)

    def blocks(self, feat: Tensor, start: int, stop: int) -> Tensor:
        """Residual blocks ``start`` to ``stop - 1`` of the trunk."""
        for index in range(start, stop):
            feat = self.recon_trunk[index](feat)
        return feat

    def heads(self, feat: Tensor, lr_curr: Tensor) -> tuple[Tensor, RRNState]:
        """SR frame and the state for the next step from the full-frame trunk features."""
        hidden = F.relu(self.conv_h(feat), inplace=True)
        base = F.interpolate(lr_curr, scale_factor=self.scale, mode="bilinear", align_corners=False)
        sr = F.pixel_shuffle(self.conv_o(feat), self.scale) + base
        return sr, (hidden, sr)


@ARCHS.register("RRN")
class RRN(nn.Module):
    """Recurrent residual VSR; RRN-3L/5L/10L differ only in ``num_blocks``."""

    temporal: TemporalMode = "recurrent"
    first_prev: FirstPrev = "next"

    def __init__(self, scale: int = 4, num_channels: int = 128, num_blocks: int = 10) -> None:
        super().__init__()
        self.scale = scale
        self.neuro = RRNTrunk(scale, num_channels, num_blocks)

    def step(
        self, lr_prev: Tensor, lr_curr: Tensor, state: RRNState | None = None
    ) -> tuple[Tensor, RRNState]:
        """SR of ``lr_curr`` (N, 3, sH, sW) and the state to pass to the next step."""
        feat = self.neuro.features(lr_prev, lr_curr, state)
        feat = self.neuro.blocks(feat, 0, len(self.neuro.recon_trunk))
        return self.neuro.heads(feat, lr_curr)
