"""Speed of the Bicubic arch (banded MATLAB imresize) against the dense-matrix imresize vsr had
before, x4 from 320x180 to 1280x720, in frames/s (median of ``--repeats``, same process), for 1, 4
and 8 frames per call (infer's and test's batch sizes). Like the CLI, it first tells malloc to
reuse freed frame buffers (``vsr.engine.memory``); ``--system-malloc`` measures without that.

The reference is written here from the dense per-axis matrices
(``vsr.archs.ops.matlab_resize.resize_matrix``): ``mat_h @ frame @ mat_w.T`` in float64, cast
back to float32. The two outputs must be ``torch.equal``: the banded version only skips exact zeros.

    python scripts/bench_bicubic.py [--threads 2] [--repeats 5] [--frames 1 4 8] [--system-malloc]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor

from vsr.archs.bicubic import Bicubic
from vsr.archs.ops.matlab_resize import resize_matrix
from vsr.engine.memory import keep_freed_blocks

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
    parser.add_argument("--frames", type=int, nargs="+", default=[1, 4, 8], help="frames per call")
    parser.add_argument("--system-malloc", action="store_true",
                        help="leave glibc's malloc as it is (each HR batch mapped afresh)")
    args = parser.parse_args()
    kept = not args.system_malloc and keep_freed_blocks()
    torch.set_num_threads(args.threads)
    h, w = LR_HW
    print(f"Bicubic x{SCALE} {w}x{h} -> {w * SCALE}x{h * SCALE}, median of {args.repeats}, "
          f"{torch.get_num_threads()} threads, freed blocks kept: {kept}", flush=True)
    print(f"{'frames/call':>11s}{'dense ms/frame':>16s}{'banded ms/frame':>17s}{'speed-up':>10s}"
          f"{'torch.equal':>13s}", flush=True)
    arch = Bicubic(SCALE).eval()
    for frames in args.frames:
        torch.manual_seed(0)
        lr = torch.rand(frames, 3, *LR_HW)
        with torch.inference_mode():
            equal = torch.equal(arch(lr), dense_imresize(lr, SCALE))
            t_banded = median_s(partial(arch, lr), args.repeats)
            t_dense = median_s(partial(dense_imresize, lr, SCALE), args.repeats)
        print(f"{frames:11d}{1000 * t_dense / frames:16.1f}{1000 * t_banded / frames:17.1f}"
              f"{t_dense / t_banded:9.2f}x{str(equal):>13s}", flush=True)

if __name__ == "__main__":
    main()
