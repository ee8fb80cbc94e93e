"""Speed of the Bicubic arch (banded MATLAB imresize) against the dense-matrix imresize vsr had
before, x4 from 320x180 to 1280x720, in frames/s (median of ``--repeats``, same process).

The reference is written here from the dense per-axis matrices
(``vsr.archs.ops.matlab_resize.resize_matrix``): ``mat_h @ frame @ mat_w.T`` in float64, cast
back to float32. The two outputs must be ``torch.equal``: the banded version only skips exact zeros.

    python scripts/bench_bicubic.py [--threads 2] [--repeats 5] [--frames 4]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor

from vsr.archs.bicubic import Bicubic
from vsr.archs.ops.matlab_resize import resize_matrix

SCALE = 4
LR_HW = (180, 320)


def dense_imresize(x: Tensor, scale: int) -> Tensor:
    """MATLAB bicubic imresize of (..., H, W) by full (out, in) matrices on both axes."""
    in_h, in_w = x.shape[-2:]
    mat_h = resize_matrix(in_h, in_h * scale, float(scale))
    mat_w = resize_matrix(in_w, in_w * scale, float(scale))
    return (mat_h @ x.to(torch.float64) @ mat_w.T).to(x.dtype)


def median_s(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: matrices built and cached
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=4, help="frames per call")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    lr = torch.rand(args.frames, 3, *LR_HW)
    arch = Bicubic(SCALE).eval()
    with torch.inference_mode():
        banded, dense = arch(lr), dense_imresize(lr, SCALE)
        equal = torch.equal(banded, dense)
        max_diff = (banded - dense).abs().max().item()
        t_banded = median_s(lambda: arch(lr), args.repeats)
        t_dense = median_s(lambda: dense_imresize(lr, SCALE), args.repeats)
    h, w = LR_HW
    print(f"Bicubic x{SCALE} {w}x{h} -> {w * SCALE}x{h * SCALE}, {args.frames} frames per call, "
          f"median of {args.repeats}, {torch.get_num_threads()} threads", flush=True)
    print(f"{'implementation':24s}{'frames/s':>10s}{'ms/frame':>10s}", flush=True)
    for name, seconds in (("dense matrices (before)", t_dense),
                          ("Bicubic arch (banded)", t_banded)):
        print(f"{name:24s}{args.frames / seconds:10.1f}{1000 * seconds / args.frames:10.1f}",
              flush=True)
    print(f"speed-up {t_dense / t_banded:.2f}x; float32 outputs torch.equal: {equal} "
          f"(max |diff| {max_diff:.3g})", flush=True)


if __name__ == "__main__":
    main()
