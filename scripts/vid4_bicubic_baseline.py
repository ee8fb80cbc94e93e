"""Bicubic ×4 on Vid4: an independent check of the BI/BD degradations, MATLAB resize and metrics.

Plain loops over frames, no evaluator: (a) BI ×4 (LR uint8) then MATLAB bicubic ×4 up;
(b) BD 13×13 Gaussian σ=1.6, replicate border, sampled from (0,0), LR uint8, then bicubic ×4 up.
Metrics: MATLAB Y, no crop, all frames, SR rounded to uint8 (as saved PNGs), averaged per clip
and then over clips. This reproduces the "Bicubic" row of RVRT/BasicVSR tables: BI 23.78/0.6347
and BD PSNR 21.79 (printed 21.80; printed SSIM 0.5246, ours 0.5427).

    python scripts/vid4_bicubic_baseline.py [--gt ../shared/data/Vid4/GT] [--step N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from vsr.archs.ops.matlab_resize import imresize
from vsr.data.degradations import bd, bi
from vsr.io.image import list_frames, read_image
from vsr.metrics.psnr_ssim import PSNR, psnr, ssim

CLIPS = ("calendar", "city", "foliage", "walk")
DEFAULT_GT = Path(__file__).resolve().parents[2] / "shared" / "data" / "Vid4" / "GT"


def degrade(name: str, hr: torch.Tensor) -> torch.Tensor:
    """The two LR recipes of the baseline, on a (1, C, H, W) float64 frame."""
    if name == "BI":
        return bi(hr, scale=4, round_to_uint8=True)
    return bd(
        hr, scale=4, kernel_size=13, sigma=1.6, border="replicate", phase=0, round_to_uint8=True
    )


def evaluate(gt_root: Path, step: int = 1) -> dict[str, dict[str, tuple[float, float]]]:
    """{degradation: {clip or 'average': (PSNR, SSIM)}}; ``step`` > 1 uses every step-th frame."""
    # one protocol for both metrics; prepare() once per frame pair, then the plain functions
    metric = PSNR(channel="y", y_formula="matlab", crop_border=0, round_to_8bit=True)
    results: dict[str, dict[str, tuple[float, float]]] = {"BI": {}, "BD": {}}
    for clip in CLIPS:
        scores: dict[str, list[tuple[float, float]]] = {"BI": [], "BD": []}
        for path in list_frames(gt_root / clip)[::step]:
            hr = torch.from_numpy(read_image(path)).permute(2, 0, 1)[None].to(torch.float64) / 255
            for name, frame_scores in scores.items():
                sr = imresize(degrade(name, hr), 4.0)[0]
                sr_y, gt_y = metric.prepare(sr, hr[0])
                frame_scores.append((psnr(sr_y, gt_y), ssim(sr_y, gt_y)))
        for name, frame_scores in scores.items():
            p, s = np.mean(frame_scores, axis=0)
            results[name][clip] = (float(p), float(s))
    for per_clip in results.values():
        p, s = np.mean([per_clip[c] for c in CLIPS], axis=0)
        per_clip["average"] = (float(p), float(s))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gt", type=Path, default=DEFAULT_GT, help="Vid4 GT root (clip folders)")
    parser.add_argument("--step", type=int, default=1, help="use every N-th frame (quick check)")
    args = parser.parse_args()
    for name, per_clip in evaluate(args.gt, args.step).items():
        cells = "  ".join(f"{clip} {p:.2f}/{s:.4f}" for clip, (p, s) in per_clip.items())
        print(f"{name}: {cells}")


if __name__ == "__main__":
    main()
