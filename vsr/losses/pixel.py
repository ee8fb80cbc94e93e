"""Pixel losses between SR and GT clips (N, T, C, H, W)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from vsr.registry import LOSSES

Reduction = Literal["mean", "sum", "sum_per_frame"]


def _reduce(err: Tensor, reduction: str, frames: int) -> Tensor:
    if reduction == "mean":
        return err.mean()
    if reduction == "sum":
        return err.sum()
    # RRN/FOCAS: sum over everything divided by N·T (MODELS.md §1.4)
    return err.sum() / frames


class _PixelLoss(nn.Module):
    def __init__(self, weight: float = 1.0, reduction: Reduction = "mean") -> None:
        super().__init__()
        self.weight = weight
        self.reduction = reduction

    def error(self, diff: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, sr: Tensor, gt: Tensor) -> Tensor:
        frames = sr.shape[0] * sr.shape[1] if sr.dim() == 5 else sr.shape[0]
        return self.weight * _reduce(self.error(sr - gt), self.reduction, frames)


@LOSSES.register("L1Loss")
class L1Loss(_PixelLoss):
    def error(self, diff: Tensor) -> Tensor:
        return diff.abs()


@LOSSES.register("MSELoss")
class MSELoss(_PixelLoss):
    def error(self, diff: Tensor) -> Tensor:
        return diff.square()


@LOSSES.register("CharbonnierLoss")
class CharbonnierLoss(_PixelLoss):
    """sqrt(d² + eps): TecoGAN uses eps 1e-6, RVRT/KAIR 1e-9 (MODELS.md §3.3, §4.2)."""

    def __init__(self, weight: float = 1.0, reduction: Reduction = "mean", eps: float = 1e-6):
        super().__init__(weight, reduction)
        self.eps = eps

    def error(self, diff: Tensor) -> Tensor:
        return torch.sqrt(diff.square() + self.eps)
