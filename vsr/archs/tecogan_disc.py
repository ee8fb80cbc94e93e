"""TecoGAN's spatio-temporal discriminator (Chu et al., 2020) as TecoGAN-PyTorch builds it.

D judges non-overlapping 3-frame triplets of a clip. Each triplet enters as 27 channels: the
frames, the frames backward-warped onto the middle one (their outer border zeroed, since warping
is unreliable there) and the upsampled LR frames as the condition, each part ordered colour-major
("rrrgggbbb") as in TecoGAN-TF. The module tree mirrors the original (``conv_in``,
``discriminator_block.block{1..4}``, ``dense``, ``upsample_func.kernels`` for BD), so its
checkpoints load as they are.

The warping flows come from the generator (``FRNet``'s ``hr_flow`` step extra, see
``vsr.archs.frvsr``) and are built once per clip by ``pingpong_triplet_flows`` or
``triplet_flows``, then reused for the real and the fake pass.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vsr.archs.ops.flow_warp import flow_warp
from vsr.archs.ops.tecogan import Degradation, lr_upsampler
from vsr.registry import ARCHS

TRIPLET = 3


def _downsampling_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.LeakyReLU(0.2, inplace=True))


class DiscriminatorBlocks(nn.Module):
    """Four stride-2 conv + BatchNorm + LeakyReLU stages (÷16); returns all four outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.block1 = _downsampling_block(64, 64)
        self.block2 = _downsampling_block(64, 64)
        self.block3 = _downsampling_block(64, 128)
        self.block4 = _downsampling_block(128, 256)

    def forward(self, x: Tensor) -> list[Tensor]:
        features = []
        for block in (self.block1, self.block2, self.block3, self.block4):
            x = block(x)
            features.append(x)
        return features


def _triplet_count(frames: int) -> int:
    if frames < TRIPLET:
        raise ValueError(f"the discriminator needs clips of at least {TRIPLET} frames, got "
                         f"{frames}")
    return frames // TRIPLET


def _merge(backward: Tensor, forward: Tensor) -> Tensor:
    """(N, K, 2, H, W) middle→first and middle→last flows as per-frame flows (N, 3K, 2, H, W)
    with a zero flow for each middle frame; detached, since D does not train the flow."""
    merged = torch.stack([backward, torch.zeros_like(backward), forward], dim=2)
    return merged.flatten(1, 2).detach()


def pingpong_triplet_flows(hr_flow: Tensor) -> Tensor:
    """Warping flows of the triplets of a ping-pong clip, from the generator's flows alone.

    ``hr_flow`` (N, T, 2, H, W) is FRNet's extra over a ping-pong (palindromic) sequence of T
    frames, e.g. 0..L-1 then L-2..0: ``hr_flow[:, t]`` maps frame t onto frame t-1. As frame
    T-1-t is frame t, ``hr_flow[:, T-1-m]`` maps a middle frame m onto its next frame m+1.
    Returns (N, 3⌊T/3⌋, 2, H, W): for each frame of the triplets, the flow that warps it onto
    its triplet's middle frame.
    """
    t = hr_flow.shape[1]
    middles = list(range(1, TRIPLET * _triplet_count(t), TRIPLET))
    return _merge(hr_flow[:, middles], hr_flow[:, [t - 1 - m for m in middles]])


def triplet_flows(generator: nn.Module, lr: Tensor, hr_flow: Tensor) -> Tensor:
    """Warping flows of the triplets of a plain clip: the backward flows from the generator's
    ``hr_flow`` (N, T, 2, sH, sW; see ``pingpong_triplet_flows``), the forward ones estimated by
    its FNet between each middle LR frame and the next (``lr``: N, T, C, H, W)."""
    k = _triplet_count(lr.shape[1])
    middles = list(range(1, TRIPLET * k, TRIPLET))
    with torch.no_grad():
        lr_mid = lr[:, middles].flatten(0, 1)
        lr_next = lr[:, [m + 1 for m in middles]].flatten(0, 1)
        forward = generator.hr_flow(generator.lr_flow(lr_mid, lr_next))
    return _merge(hr_flow[:, middles], forward.unflatten(0, (lr.shape[0], k)))


def _colour_major(frames: Tensor) -> Tensor:
    """(N, 3K, C, H, W) → (N·K, C·3, H, W), the channels of a triplet ordered colour-major."""
    n, t, c, h, w = frames.shape
    triplets = frames.reshape(n * t // TRIPLET, TRIPLET, c, h, w)
    return triplets.transpose(1, 2).reshape(n * t // TRIPLET, c * TRIPLET, h, w)


@ARCHS.register("SpatioTemporalDiscriminator")
class SpatioTemporalDiscriminator(nn.Module):
    """Spatio-temporal conditional discriminator on ``spatial_size``² HR crops (x4 or x2)."""

    def __init__(self, spatial_size: int = 128, scale: int = 4, degradation: Degradation = "BD",
                 crop_border_ratio: float = 0.75, in_channels: int = 3) -> None:
        super().__init__()
        if spatial_size % 16:
            raise ValueError(f"spatial_size must be a multiple of 16, got {spatial_size}")
        self.spatial_size = spatial_size
        self.scale = scale
        self.crop_border_ratio = crop_border_ratio
        self.conv_in = nn.Sequential(nn.Conv2d(in_channels * TRIPLET * 3, 64, 3, 1, 1),
                                     nn.LeakyReLU(0.2, inplace=True))
        self.discriminator_block = DiscriminatorBlocks()
        self.dense = nn.Linear(256 * (spatial_size // 16) ** 2, 1)
        self.upsample_func = lr_upsampler(scale, degradation)

    def condition(self, lr: Tensor) -> Tensor:
        """The upsampled LR clip (N, T, C, sH, sW) that D is conditioned on."""
        return self.upsample_func(lr.flatten(0, 1)).unflatten(0, lr.shape[:2])

    def _zero_border(self, x: Tensor) -> Tensor:
        keep = int(self.spatial_size * self.crop_border_ratio)
        pad = (self.spatial_size - keep) // 2
        mask = x.new_zeros(x.shape[-2:])
        mask[pad:pad + keep, pad:pad + keep] = 1
        return x * mask

    def forward(self, hr: Tensor, lr: Tensor, flows: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Logits (N·K, 1) of the K = ⌊T/3⌋ triplets of ``hr`` (N, T, C, S, S, GT or generated)
        given ``lr`` (N, T, C, S/s, S/s) and the triplet ``flows`` (N, 3K, 2, S, S; extra frames
        are ignored), with the four block outputs (feature-matching losses)."""
        t = TRIPLET * _triplet_count(hr.shape[1])
        if hr.shape[-2:] != (self.spatial_size,) * 2:
            raise ValueError(f"the discriminator was built for {self.spatial_size}x"
                             f"{self.spatial_size} HR crops, got {tuple(hr.shape[-2:])}")
        if flows.shape[1] != t:
            raise ValueError(f"flows cover {flows.shape[1]} frames, the triplets {t}")
        frames = hr[:, :t]
        warped = flow_warp(frames.flatten(0, 1), flows.flatten(0, 1), padding_mode="border")
        warped = warped.unflatten(0, frames.shape[:2])
        x = torch.cat([_colour_major(frames), self._zero_border(_colour_major(warped)),
                       _colour_major(self.condition(lr[:, :t]))], dim=1)
        features = self.discriminator_block(self.conv_in(x))
        return self.dense(features[-1].flatten(1)), features
