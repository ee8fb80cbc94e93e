"""Gaze-dependent quality metrics of FOCAS (MODELS.md §2.6): EWPSNR and FWQI.

Both weight errors by where the viewer looks, so they take the frame's gaze point (h, w) in HR
pixels of the uncropped frame: ``metric(sr, gt, gaze=(h, w))``; ``None`` means the frame centre.
``conditions`` tells the evaluator to pass it from the clip's per-frame conditions. They default
to FOCAS's Y formula, because that is what the published FOCAS numbers were computed on.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pywt
import torch
from scipy.ndimage import correlate1d
from torch import Tensor

from vsr.metrics.protocol import Protocol
from vsr.metrics.psnr_ssim import FrameMetric
from vsr.registry import METRICS

Gaze = Sequence[float] | Tensor


class FoveatedMetric(FrameMetric):
    """A FrameMetric that also needs the gaze; ``y_formula`` defaults to ``'focas'``."""

    conditions = ("gaze",)

    def __init__(self, protocol: Protocol | None = None, **protocol_kwargs: Any) -> None:
        if protocol is None:
            protocol_kwargs.setdefault("y_formula", "focas")
        super().__init__(protocol, **protocol_kwargs)

    def gaze_on_plane(self, gaze: Gaze | None, height: int, width: int) -> tuple[float, float]:
        """Gaze in the coordinates of the (cropped) metric plane of a ``height`` × ``width``
        frame; the plane's centre when ``None``."""
        top, left, h, w = self.protocol.crop_box(height, width)
        if gaze is None:
            return float(h // 2), float(w // 2)
        values = torch.as_tensor(gaze, dtype=torch.float64).flatten().tolist()
        if len(values) != 2 or not all(math.isfinite(v) for v in values):
            raise ValueError(f"gaze must be two finite numbers (h, w), got {gaze!r}")
        return values[0] - top, values[1] - left

    def __call__(self, sr: Tensor, gt: Tensor, gaze: Gaze | None = None) -> float:
        """The metric for one SR frame against its GT frame (both (C, H, W) in [0, 1])."""
        x, y = self.prepare(sr, gt)
        return self.compute(x, y, self.gaze_on_plane(gaze, *sr.shape[-2:]))

    def compute(self, sr: Tensor, gt: Tensor, gaze: tuple[float, float]) -> float:
        raise NotImplementedError


def _gaussian_factors(
    height: int, width: int, gaze: tuple[float, float], sigma: float
) -> tuple[Tensor, Tensor]:
    """The separable row and column factors of the (unnormalised) gaze Gaussian."""
    h = torch.arange(height, dtype=torch.float64) - gaze[0]
    w = torch.arange(width, dtype=torch.float64) - gaze[1]
    return torch.exp(-(h**2) / (2 * sigma**2)), torch.exp(-(w**2) / (2 * sigma**2))


@METRICS.register("EWPSNR")
class EWPSNR(FoveatedMetric):
    """Eye-tracking-weighted PSNR (dB): PSNR of the Gaussian-weighted MSE around the gaze.

    ``normalization='weighted'`` uses Σw·e²/Σw, a true weighted mean, so a spatially uniform error
    gives plain PSNR. ``'focas'`` divides once more by H·W as the original does (+10·log10(H·W) dB,
    ≈ +63.2 dB at 1080p); use it only to compare with published FOCAS numbers.
    """

    def __init__(
        self,
        protocol: Protocol | None = None,
        sigma: float = 64.0,
        normalization: Literal["weighted", "focas"] = "weighted",
        **protocol_kwargs: Any,
    ) -> None:
        super().__init__(protocol, **protocol_kwargs)
        if sigma <= 0:
            raise ValueError(f"sigma must be > 0, got {sigma}")
        if normalization not in ("weighted", "focas"):
            raise ValueError(f"normalization must be 'weighted' or 'focas', got {normalization!r}")
        self.sigma = sigma
        self.normalization = normalization

    def ewmse(self, sr: Tensor, gt: Tensor, gaze: Gaze | None = None) -> float:
        """The eye-tracking-weighted MSE on [0, 255], under this metric's normalisation."""
        x, y = self.prepare(sr, gt)
        return self._ewmse(x, y, self.gaze_on_plane(gaze, *sr.shape[-2:]))

    def _ewmse(self, sr: Tensor, gt: Tensor, gaze: tuple[float, float]) -> float:
        height, width = sr.shape[-2:]
        # the weight is separable, so Σw·e² = gh·E·gw; its 1/(2πσ²) cancels against Σw
        gh, gw = _gaussian_factors(height, width, gaze, self.sigma)
        err = ((sr - gt) ** 2).mean(dim=0)  # channels averaged (one plane on Y)
        mse = (gh @ err @ gw).item() / (gh.sum() * gw.sum()).item()
        return mse / (height * width) if self.normalization == "focas" else mse

    def compute(self, sr: Tensor, gt: Tensor, gaze: tuple[float, float]) -> float:
        mse = self._ewmse(sr, gt, gaze)
        return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


# Watson et al. wavelet-error sensitivity: Y = a·10^(k·(log10(f / (g·f0)))²), a/k/f0 below.
_WATSON_A, _WATSON_K, _WATSON_F0 = 0.495, 0.466, 0.401
_WATSON_GAIN = (1.501, 1.0, 1.0, 0.534)  # LL, H, V, D
# Foveation (Geisler–Perry contrast threshold): CT0, alpha, e2.
_CT0, _ALPHA, _E2 = 1.0 / 64, 0.106, 2.3
_BOX = np.ones(11)


def _box_sum(x: np.ndarray) -> np.ndarray:
    """11×11 local sums with zero padding (same size), as two exact 1-D sums."""
    return correlate1d(correlate1d(x, _BOX, axis=0, mode="constant"), _BOX, axis=1, mode="constant")


def _quality_map(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """FOCAS's local quality index on window *sums*: μ = Σx, σ² = Σx² − μ² (kept as the original
    computes it, which is why it is ≈ 1 on smooth subbands); NaN → 0, clipped to [−1, 1]."""
    mx, my = _box_sum(x), _box_sum(y)
    sxx = _box_sum(x * x) - mx * mx
    syy = _box_sum(y * y) - my * my
    sxy = _box_sum(x * y) - mx * my
    with np.errstate(divide="ignore", invalid="ignore"):
        q = 4 * sxy * mx * my / ((sxx + syy) * (mx * mx + my * my))
    return np.clip(np.where(np.isnan(q), 0.0, q), -1.0, 1.0)


def _centre_crop(c: np.ndarray, th: int, tw: int) -> np.ndarray:
    """``[c//2 − t//2 : c//2 + t//2]`` per axis (odd targets lose one sample, as in FOCAS)."""
    ch, cw = c.shape[0] // 2, c.shape[1] // 2
    return c[ch - th // 2 : ch + th // 2, cw - tw // 2 : cw + tw // 2]


@METRICS.register("FWQI")
class FWQI(FoveatedMetric):
    """Foveated wavelet image quality index (Wang, Bovik et al.) as FOCAS computes it, in [−1, 1].

    3-level bior4.4 DWT (symmetric); every subband is weighted by Watson's wavelet error
    sensitivity times a foveation factor that falls with eccentricity from the gaze, and by the
    reference coefficient's magnitude. The display is ``display_width`` pixels wide seen from
    ``viewing_distance`` screen widths (FOCAS: 1920 px, 1 width), independent of the frame size.
    """

    def __init__(
        self,
        protocol: Protocol | None = None,
        display_width: int = 1920,
        viewing_distance: float = 1.0,
        **protocol_kwargs: Any,
    ) -> None:
        super().__init__(protocol, **protocol_kwargs)
        if display_width <= 0 or viewing_distance <= 0:
            raise ValueError("display_width and viewing_distance must be > 0")
        self.display_width = display_width
        self.viewing_distance = viewing_distance

    def subbands(
        self, sr: Tensor, gt: Tensor, gaze: Gaze | None = None
    ) -> tuple[float, list[float]]:
        """FWQI and the per-subband indices [LL, (H, V, D) of levels 3, 2, 1] (first channel)."""
        x, y = self.prepare(sr, gt)
        g = self.gaze_on_plane(gaze, *sr.shape[-2:])
        num, den = self._sums(x[0].numpy(), y[0].numpy(), g)
        return float(num.sum() / den.sum()), (num / den).tolist()

    def compute(self, sr: Tensor, gt: Tensor, gaze: tuple[float, float]) -> float:
        values = []
        for a, b in zip(sr.numpy(), gt.numpy()):  # one plane on Y; channel mean on RGB
            num, den = self._sums(a, b, gaze)
            values.append(num.sum() / den.sum())
        return float(np.mean(values))

    def _sums(
        self, x: np.ndarray, y: np.ndarray, gaze: tuple[float, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per subband Σ s·|c_ref|·q and Σ s·|c_ref|; ``y`` is the reference."""
        height, width = x.shape
        with warnings.catch_warnings():  # level 3 is the metric's definition, even on small frames
            warnings.filterwarnings("ignore", "Level value", UserWarning)
            cx = pywt.wavedec2(x, "bior4.4", mode="symmetric", level=3)
            cy = pywt.wavedec2(y, "bior4.4", mode="symmetric", level=3)
        # (pred, ref, orientation, λ); λ = 2 for LL and level 3, 1 for level 2, 0 for level 1
        bands = [(cx[0], cy[0], 0, 2)]
        for lam, (dx, dy) in zip((2, 1, 0), zip(cx[1:], cy[1:])):
            bands += [(dx[o], dy[o], o + 1, lam) for o in range(3)]
        nv = self.display_width * self.viewing_distance
        r = math.pi * nv / 180  # display resolution, pixels per degree
        num, den = np.empty(len(bands)), np.empty(len(bands))
        for k, (bx, by, orient, lam) in enumerate(bands):
            level = lam + 1
            th, tw = int(height * 2.0**-level), int(width * 2.0**-level)
            bx, by = _centre_crop(bx, th, tw), _centre_crop(by, th, tw)
            # Watson's error sensitivity; his amplitude table multiplies and divides, so it cancels
            log_f = math.log10(2**lam * _WATSON_F0 * _WATSON_GAIN[orient] / r)
            s_w = 1 / (_WATSON_A * 10 ** (_WATSON_K * log_f**2))
            weight = s_w * self._foveation(bx.shape, level, gaze, nv, r) ** 2.5 * np.abs(by)
            num[k] = (weight * _quality_map(bx, by)).sum()
            den[k] = weight.sum()
        return num, den

    @staticmethod
    def _foveation(
        shape: tuple[int, ...], level: int, gaze: tuple[float, float], nv: float, r: float
    ) -> np.ndarray:
        """Foveation factor s_f per subband sample; sample (i, j) sits at (i·2^ℓ, j·2^ℓ) full-res
        pixels, counted from 0 although the subband was centre-cropped (as in FOCAS)."""
        step = 2.0**level
        dh = np.arange(shape[0]) * step - gaze[0]
        dw = np.arange(shape[1]) * step - gaze[1]
        d = np.sqrt(dh[:, None] ** 2 + dw[None, :] ** 2) + 1e-6
        e = np.degrees(np.arctan(d / nv))  # eccentricity
        fc = _E2 * math.log(1 / _CT0) / ((e + _E2) * _ALPHA)  # cutoff frequency
        f = r / step
        return np.where(f <= np.minimum(fc, r / 2), np.exp(-_ALPHA * f * e / _E2), 0.0)
