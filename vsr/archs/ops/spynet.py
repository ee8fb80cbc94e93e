"""SpyNet optical flow (Ranjan & Black, CVPR 2017) as BasicSR/RVRT run it, for any flow-based arch.

Six pyramid levels, each refining the upsampled coarser flow with five 7×7 convolutions over
[reference, support warped by the flow, flow]. Inputs are RGB in [0, 1]; they are normalised with
the ImageNet mean/std and resized to multiples of 32 (at least 64), and the finest flow is
resized back with its components rescaled. The module tree
(``basic_module.{level}.basic_module.{0,2,4,6,8}``, buffers ``mean``/``std``) is the original's,
so ``spynet_sintel_final-3d2a1287.pth`` loads as it is.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsr.archs.ops.flow_warp import flow_warp
from vsr.io.weights import foreign_state_dict, load_state_strict, read_weights_file

NUM_LEVELS = 6
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class SpyNetLevel(nn.Module):
    """The flow refiner of one pyramid level: 8 → 32 → 64 → 32 → 16 → 2 channels, 7×7 convs."""

    def __init__(self) -> None:
        super().__init__()
        widths = (8, 32, 64, 32, 16, 2)
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Conv2d(cin, cout, 7, 1, 3))
            if i < len(widths) - 2:
                layers.append(nn.ReLU())
        self.basic_module = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.basic_module(x)


class SpyNet(nn.Module):
    """Flow from ``ref`` to ``supp`` (N, 3, H, W) → (N, 2, H, W), x first: ``supp`` warped by it
    (``flow_warp``) lines up with ``ref``."""

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))
        self.basic_module = nn.ModuleList(SpyNetLevel() for _ in range(NUM_LEVELS))
        if weights is not None:
            self.load_pretrained(weights)

    def load_pretrained(self, path: str | os.PathLike) -> None:
        """Weights from a release file (state under ``params``); the stand-alone SpyNet file holds
        only ``basic_module.*``, so the normalisation constants are kept when it lacks them."""
        state = foreign_state_dict(read_weights_file(path))
        constants = {"mean": self.mean, "std": self.std}
        load_state_strict(self, {**constants, **state}, path)

    def forward(self, ref: Tensor, supp: Tensor) -> Tensor:
        return self.flow_levels(ref, supp, (NUM_LEVELS - 1,))[0]

    def flow_levels(self, ref: Tensor, supp: Tensor, levels: Sequence[int]) -> list[Tensor]:
        """Flows of the pyramid ``levels`` (5 = finest), finest first; level ``l``'s flow is at
        1/2^(5-l) of the input size."""
        if ref.shape != supp.shape or ref.dim() != 4 or ref.shape[1] != 3:
            raise ValueError(f"SpyNet takes two (N, 3, H, W) frames of one shape, got "
                             f"{tuple(ref.shape)} and {tuple(supp.shape)}")
        h, w = ref.shape[2:]
        # multiples of 32, at least 64: below that the original's coarsest flow would be empty
        h_up, w_up = (max(64, math.ceil(s / 32) * 32) for s in (h, w))
        refs = [self._prepare(ref, h_up, w_up)]
        supps = [self._prepare(supp, h_up, w_up)]
        for _ in range(NUM_LEVELS - 1):
            refs.insert(0, F.avg_pool2d(refs[0], 2, 2, count_include_pad=False))
            supps.insert(0, F.avg_pool2d(supps[0], 2, 2, count_include_pad=False))
        n, _, h0, w0 = refs[0].shape
        flow = refs[0].new_zeros(n, 2, h0 // 2, w0 // 2)
        outputs = []
        for level in range(NUM_LEVELS):
            up = F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=True) * 2.0
            pad_h, pad_w = refs[level].shape[2] - up.shape[2], refs[level].shape[3] - up.shape[3]
            if pad_h or pad_w:
                up = F.pad(up, [0, pad_w, 0, pad_h], mode="replicate")
            warped = flow_warp(supps[level], up, padding_mode="border")
            flow = self.basic_module[level](torch.cat([refs[level], warped, up], 1)) + up
            if level in levels:
                outputs.insert(0, self._resize_flow(flow, level, h, w, h_up, w_up))
        return outputs

    def _prepare(self, x: Tensor, h: int, w: int) -> Tensor:
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std

    @staticmethod
    def _resize_flow(flow: Tensor, level: int, h: int, w: int, h_up: int, w_up: int) -> Tensor:
        """The level's flow at 1/2^(5-level) of the input size, in that grid's pixels."""
        div = 2 ** (NUM_LEVELS - 1 - level)
        out = F.interpolate(flow, size=(h // div, w // div), mode="bilinear", align_corners=False)
        ratio = torch.tensor([(w // div) / (w_up // div), (h // div) / (h_up // div)],
                             dtype=out.dtype, device=out.device)
        return out * ratio.view(1, 2, 1, 1)
