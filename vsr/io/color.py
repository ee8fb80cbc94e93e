"""RGB → luma conversions of the published evaluation protocols (MODELS.md §7.2), shared by the
metrics and the luma pixel losses, and the uint8 grid of saved frames.

The "same" Y differs by up to ~0.1 dB PSNR between papers, so the formula is always named.
"""

from __future__ import annotations

from torch import Tensor

# (offset, R, G, B) on [0, 255] input.
Y_FORMULAS: dict[str, tuple[float, float, float, float]] = {
    # MATLAB rgb2ycbcr: RRN, FOCAS validation, RVRT/KAIR, BasicSR.
    "matlab": (16.0, 65.481 / 255, 128.553 / 255, 24.966 / 255),
    # DUF / TecoGAN official metrics: the same matrix with DUF's rounded constants.
    "duf": (16.0, 0.256788235294118, 0.504129411764706, 0.097905882352941),
    # FOCAS inference metrics (utils.convert_rgb_to_y).
    "focas": (16.0, 64.738 / 256, 129.057 / 256, 25.064 / 256),
    # Full-range JPEG / BT.601 luma: NVVL VSRNet.
    "jpeg": (0.0, 0.299, 0.587, 0.114),
}


def rgb_to_y(rgb: Tensor, formula: str = "matlab") -> Tensor:
    """Y (..., 1, H, W) from RGB (..., 3, H, W), both on the [0, 255] scale, in the input dtype."""
    if formula not in Y_FORMULAS:
        raise ValueError(f"unknown y_formula {formula!r}; expected one of {sorted(Y_FORMULAS)}")
    if rgb.shape[-3] != 3:
        raise ValueError(f"expected 3 RGB channels at dim -3, got shape {tuple(rgb.shape)}")
    offset, wr, wg, wb = Y_FORMULAS[formula]
    r, g, b = rgb.unbind(dim=-3)
    return (offset + wr * r + wg * g + wb * b).unsqueeze(-3)


def to_uint8_grid(x: Tensor) -> Tensor:
    """[0,1] → [0,255] rounded to integers (half away from zero), clamped; stays floating point.

    This is what writing the SR result to PNG and reading it back does.
    """
    return x.clamp(0, 1).mul_(255).add_(0.5).floor_()
