"""TecoGAN's official test metrics (TecoGAN-TF ``official_metrics/metrics.py``, as TecoGAN-PyTorch
runs it on saved PNGs): its SSIM and the temporal tOF.

The protocol around them is the usual one (vsr.metrics.protocol): first and last 2 frames cut,
``crop_8x8``, Y with the DUF constants on uint8-rounded RGB; PSNR is the common PSNR under it.
tOF compares Farnebäck flows of consecutive GT and output frames, computed on full frames and
cropped afterwards, and is valued only where the previous frame was scored too (7 frames with 2
cut give the pairs (2,3), (3,4)). tLP and LPIPS are in vsr.metrics.lpips.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from skimage.metrics import structural_similarity
from torch import Tensor

from vsr.io.color import to_uint8_grid
from vsr.metrics.protocol import Protocol
from vsr.metrics.psnr_ssim import FrameMetric
from vsr.metrics.sequence import ConsecutivePairMetric
from vsr.registry import METRICS

# pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, flags of the official tOF
FARNEBACK = (0.5, 3, 15, 3, 5, 1.2, 0)


@METRICS.register("SSIM_TecoGAN")
class TecoGANSSIM(FrameMetric):
    """skimage ``structural_similarity`` with its defaults (7×7 uniform window, sample
    covariance) on each plane, with ``data_range`` the prediction's max − min rather than 255:
    what TecoGAN's ``compare_ssim(y_true, y_pred, data_range=y_pred.max() - y_pred.min())``
    computes."""

    def compute(self, sr: Tensor, gt: Tensor) -> float:
        values = []
        for pred, true in zip(sr.cpu().numpy(), gt.cpu().numpy()):
            values.append(structural_similarity(true, pred, data_range=pred.max() - pred.min()))
        return float(np.mean(values))


def farneback_flow(prev: Tensor, nxt: Tensor) -> np.ndarray:
    """(H, W, 2) OpenCV Farnebäck flow between two (3, H, W) RGB frames in [0, 1], taken as the
    uint8 images a results folder holds and converted with cv2's RGB2GRAY."""
    grey = [cv2.cvtColor(np.ascontiguousarray(
        to_uint8_grid(f.detach().cpu().double()).permute(1, 2, 0).numpy().astype(np.uint8)),
        cv2.COLOR_RGB2GRAY) for f in (prev, nxt)]
    return cv2.calcOpticalFlowFarneback(grey[0], grey[1], None, *FARNEBACK)


@METRICS.register("tOF")
class TOF(ConsecutivePairMetric):
    """Mean over the cropped pixels of ‖OF(gt_{t−1}, gt_t) − OF(sr_{t−1}, sr_t)‖₂."""

    kwargs_schema = Protocol

    def __init__(self, protocol: Protocol | None = None, **protocol_kwargs: Any) -> None:
        self.protocol = protocol if protocol is not None else Protocol(**protocol_kwargs)

    def pair(self, prev_sr: Tensor, sr: Tensor, prev_gt: Tensor, gt: Tensor) -> float:
        difference = farneback_flow(prev_gt, gt) - farneback_flow(prev_sr, sr)
        top, left, h, w = self.protocol.crop_box(*difference.shape[:2])
        crop = difference[top : top + h, left : left + w]
        return float(np.sqrt((crop.astype(np.float64) ** 2).sum(axis=-1)).mean())
