"""PSNR and MATLAB-style SSIM under an explicit :class:`Protocol`, in float64 on [0, 255].

Both follow the definitions used by RRN/BasicSR/KAIR (and, through them, most VSR tables):
PSNR = 10·log10(255² / MSE); SSIM with an 11×11 Gaussian window (σ = 1.5), valid region only,
C1 = (0.01·255)², C2 = (0.03·255)², averaged over channels for RGB.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import torch
from torch import Tensor

from vsr.io.color import rgb_to_y, to_uint8_grid
from vsr.metrics.protocol import Protocol
from vsr.registry import METRICS


class FrameMetric:
    """Base for per-frame metrics: applies the protocol's rounding, channel and crop (rounding
    and Y are per pixel, so the crop's place among them does not change the result)."""

    kwargs_schema = Protocol  # config keys beyond ``protocol`` are Protocol fields

    def __init__(self, protocol: Protocol | None = None, **protocol_kwargs: Any) -> None:
        if protocol is not None and protocol_kwargs:
            raise ValueError("give either a Protocol or protocol keyword arguments, not both")
        self.protocol = protocol if protocol is not None else Protocol(**protocol_kwargs)

    def prepare(self, sr: Tensor, gt: Tensor) -> tuple[Tensor, Tensor]:
        """(C, H, W) frames in [0,1] → float64 [0,255] planes the metric is computed on."""
        if sr.shape != gt.shape or sr.ndim != 3:
            raise ValueError(
                f"expected two (C, H, W) frames of equal shape, got {tuple(sr.shape)} and "
                f"{tuple(gt.shape)}"
            )
        p = self.protocol
        planes = []
        for x in (sr, gt):
            x = x.to(torch.float64)
            x = to_uint8_grid(x) if p.round_to_8bit else x * 255
            if p.channel == "y":
                x = rgb_to_y(x, p.y_formula)
            planes.append(p.crop(x))
        return planes[0], planes[1]

    def compute(self, sr: Tensor, gt: Tensor) -> float:
        raise NotImplementedError

    def __call__(self, sr: Tensor, gt: Tensor) -> float:
        """The metric for one SR frame against its GT frame, both (C, H, W) in [0, 1]."""
        return self.compute(*self.prepare(sr, gt))


def psnr(x: Tensor, y: Tensor, data_range: float = 255.0) -> float:
    """PSNR in dB over all elements; ``inf`` for identical inputs (no division warning)."""
    mse = torch.mean((x.to(torch.float64) - y.to(torch.float64)) ** 2).item()
    if mse == 0:
        return math.inf
    return 10 * math.log10(data_range**2 / mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """cv2.getGaussianKernel(size, sigma) in float64; the 2-D window is its outer product."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    k = np.exp(-(x**2) / (2 * sigma**2))
    return k / k.sum()


def _filter_valid(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Separable filtering of an (H, W) float64 plane by ``outer(k, k)``, valid region only.

    OpenCV's float64 separable filter is ~15× faster on CPU than torch's float64 conv2d, which
    matters for full-set evaluation; the border it adds is cut away.
    """
    r = len(k) // 2
    return cv2.sepFilter2D(x, cv2.CV_64F, k, k)[r:-r, r:-r]


def _ssim_plane(x: np.ndarray, y: np.ndarray, c1: float, c2: float) -> float:
    k = _gaussian_window()
    mu_x, mu_y = _filter_valid(x, k), _filter_valid(y, k)
    sxx = _filter_valid(x * x, k) - mu_x**2
    syy = _filter_valid(y * y, k) - mu_y**2
    sxy = _filter_valid(x * y, k) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)
    return float((num / den).mean())


def ssim(x: Tensor, y: Tensor, data_range: float = 255.0) -> float:
    """MATLAB-style SSIM of (C, H, W) planes: mean over the valid region, averaged over C."""
    if min(x.shape[-2:]) < 11:
        raise ValueError(f"SSIM needs frames of at least 11×11 after cropping, got {x.shape}")
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    xs = x.detach().to("cpu", torch.float64).numpy()
    ys = y.detach().to("cpu", torch.float64).numpy()
    return float(np.mean([_ssim_plane(a, b, c1, c2) for a, b in zip(xs, ys)]))


@METRICS.register("PSNR")
class PSNR(FrameMetric):
    """PSNR (dB) on [0, 255] under the protocol; ``inf`` when SR equals GT."""

    def compute(self, sr: Tensor, gt: Tensor) -> float:
        return psnr(sr, gt)


@METRICS.register("SSIM")
class SSIM(FrameMetric):
    """MATLAB-style Gaussian-window SSIM under the protocol (1.0 when SR equals GT)."""

    def compute(self, sr: Tensor, gt: Tensor) -> float:
        return ssim(sr, gt)
