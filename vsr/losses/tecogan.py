"""TecoGAN-PyTorch's generator losses beyond the pixel loss (MODELS.md §3.3): warping on the LR
flow (trains FNet), ping-pong (temporal consistency of a palindromic clip) and the
adversarial losses of generator and discriminator."""

from __future__ import annotations

from typing import Annotated, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsr.archs.ops.flow_warp import flow_warp
from vsr.registry import LOSSES


def _criterion(spec: dict | None) -> nn.Module:
    return LOSSES.build(spec or {"type": "CharbonnierLoss", "eps": 1e-6})


@LOSSES.register("WarpingLoss")
class WarpingLoss(nn.Module):
    """criterion(warp(lr_{t-1}, lr_flow_t), lr_t) over t = 1..T-1 (frame 0 has no flow).
    ``lr`` (N, T, C, H, W), ``lr_flow`` (N, T, 2, H, W) from current to previous frame."""

    def __init__(self, weight: float = 1.0,
                 criterion: Annotated[dict, LOSSES] | None = None) -> None:
        super().__init__()
        self.weight = weight
        self.criterion = _criterion(criterion)

    def forward(self, lr: Tensor, lr_flow: Tensor) -> Tensor:
        if lr.shape[1] < 2:
            raise ValueError(f"the warping loss needs clips of at least 2 frames, "
                             f"got {lr.shape[1]}")
        prev = lr[:, :-1].flatten(0, 1)
        warped = flow_warp(prev, lr_flow[:, 1:].flatten(0, 1).to(prev.dtype),
                           padding_mode="border")
        return self.weight * self.criterion(warped, lr[:, 1:].flatten(0, 1))


def pingpong(clip: Tensor) -> Tensor:
    """0..T-1 → 0..T-1, T-2..0 (N, 2T-1, ...): the ping-pong sequence of TecoGAN."""
    return torch.cat([clip, clip.flip(1)[:, 1:]], dim=1)


@LOSSES.register("PingPongLoss")
class PingPongLoss(nn.Module):
    """criterion(hr[:, :T-1], flip(hr[:, T:])) on the output of a ping-pong clip of 2T-1
    frames: the forward and the backward pass must agree (turning frame excluded)."""

    def __init__(self, weight: float = 0.5,
                 criterion: Annotated[dict, LOSSES] | None = None) -> None:
        super().__init__()
        self.weight = weight
        self.criterion = _criterion(criterion)

    def forward(self, hr: Tensor) -> Tensor:
        length = hr.shape[1]
        if length < 3 or length % 2 == 0:
            raise ValueError(f"a ping-pong clip has 2T-1 >= 3 frames, got {length}")
        t = (length + 1) // 2
        return self.weight * self.criterion(hr[:, :t - 1], hr[:, t:].flip(1))


@LOSSES.register("GANLoss")
class GANLoss(nn.Module):
    """Vanilla (BCE with logits) or LSGAN. ``generator(fake)`` = weight·L(D(fake), 1) (TecoGAN:
    0.01); ``discriminator(real, fake)`` = L(D(real), 1) + L(D(fake), 0), unweighted as in
    TecoGAN."""

    def __init__(self, weight: float = 0.01, kind: Literal["vanilla", "lsgan"] = "vanilla"):
        super().__init__()
        self.weight = weight
        self.kind = kind

    def _loss(self, logits: Tensor, real: bool) -> Tensor:
        logits = logits.float()
        target = torch.full_like(logits, float(real))
        if self.kind == "lsgan":
            return F.mse_loss(logits, target)
        return F.binary_cross_entropy_with_logits(logits, target)

    def generator(self, fake: Tensor) -> Tensor:
        return self.weight * self._loss(fake, True)

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        return self._loss(real, True) + self._loss(fake, False)

    def forward(self, fake: Tensor) -> Tensor:
        return self.generator(fake)


def adaptive_distance(real: Tensor, fake: Tensor) -> float:
    """TecoGAN's adaptive D criterion: mean log σ(D(real)) − mean log σ(D(fake)) (eps 1e-8);
    D is stepped while it is below the threshold (0.4)."""
    real, fake = real.detach().float(), fake.detach().float()
    return (torch.log(torch.sigmoid(real) + 1e-8).mean()
            - torch.log(torch.sigmoid(fake) + 1e-8).mean()).item()
