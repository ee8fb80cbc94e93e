"""Bicubic upsampling as a parameter-free arch: the reference row of every results table."""

from __future__ import annotations

from torch import Tensor, nn

from vsr.archs.ops.matlab_resize import imresize
from vsr.registry import ARCHS


@ARCHS.register("Bicubic")
class Bicubic(nn.Module):
    """MATLAB ``imresize(lr, scale, 'bicubic')`` of each frame."""

    temporal = "frame"

    def __init__(self, scale: int = 4) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        return imresize(x, self.scale)
