"""Pixel losses between SR and GT clips (N, T, C, H, W), on RGB or on a named luma.

``y_formula`` (a key of ``vsr.io.color.Y_FORMULAS``) compares Y/255 of both instead of RGB:
NVVL trains VSRNet with MSE on the full-range JPEG Y (``y_formula: jpeg``)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from vsr.io.color import Y_FORMULAS, rgb_to_y
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
    def __init__(self, weight: float = 1.0, reduction: Reduction = "mean",
                 y_formula: str | None = None) -> None:
        super().__init__()
        if y_formula is not None and y_formula not in Y_FORMULAS:
            raise ValueError(f"unknown y_formula {y_formula!r}; expected one of "
                             f"{sorted(Y_FORMULAS)}")
        self.weight = weight
        self.reduction = reduction
        self.y_formula = y_formula

    def error(self, diff: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, sr: Tensor, gt: Tensor) -> Tensor:
        frames = sr.shape[0] * sr.shape[1] if sr.dim() == 5 else sr.shape[0]
        if self.y_formula is not None:
            sr, gt = (rgb_to_y(x * 255, self.y_formula) / 255 for x in (sr, gt))
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

    def __init__(self, weight: float = 1.0, reduction: Reduction = "mean", eps: float = 1e-6,
                 y_formula: str | None = None):
        super().__init__(weight, reduction, y_formula)
        self.eps = eps

    def error(self, diff: Tensor) -> Tensor:
        return torch.sqrt(diff.square() + self.eps)
