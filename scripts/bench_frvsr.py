"""Speed of one FRNet x4 BD step (the FRVSR/TecoGAN generator) at LR 134x320 on CPU.

The same weights run two ways in this one process: with NCHW parameters, as the original code
holds them, and as vsr's FRNet holds them (channels-last, where oneDNN's transposed convs run
several times faster), each in fp32 and under bf16 autocast. Rounds alternate the four cells
with a channels-last 3x3 64->64 conv at the LR size in the same precision (SRNet's residual
conv: the machine's ceiling for this net). Each cell reports the median ms, frames/s, GFLOP/s
(FLOPs as the original counts them: 2 x MACs of its Conv2d and ConvTranspose2d layers, a
transposed conv's MACs being input pixels x Cin x Cout x 9), its share of the ceiling, the
speed-up over the original layout and the largest |difference| of the SR frame from the
original layout in fp32. For the record (issue 11): the original code took 1135 ms per step in
fp32 with 2 threads and 725 ms in bf16 on a CPU with bf16 instructions; the target is >= 1.3x
faster in fp32.

    python scripts/bench_frvsr.py [--threads 2] [--repeats 5] [--size 134 320]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vsr.archs.frvsr import FRNet  # noqa: E402

ORIGINAL_FP32_MS = 1135.0
"""The original TecoGAN-PyTorch FRNet BD step at 134x320, fp32, 2 threads (issue 11)."""


SLOW_S = 20.0
"""A cell whose warm-up takes longer is timed once (its warm-up): bf16 convolution on a CPU
without bf16 instructions (AVX2 only) runs some 50x slower than fp32."""


def original_layout(net: FRNet) -> FRNet:
    """The same network with NCHW (contiguous) parameters, as the original code holds them."""
    return copy.deepcopy(net).to(memory_format=torch.contiguous_format)


def conv_flops(net: FRNet, inputs: tuple[Tensor, ...]) -> float:
    """2 x MACs of every Conv2d and ConvTranspose2d one step runs."""
    macs: list[int] = []

    def conv(module: nn.Conv2d, _args: object, out: Tensor) -> None:
        macs.append(out.numel() * module.weight[0].numel())  # (in / groups) x kh x kw each

    def transposed(module: nn.ConvTranspose2d, args: tuple[Tensor], _out: Tensor) -> None:
        macs.append(args[0].numel() * module.out_channels * module.weight[0, 0].numel())

    hooks = [m.register_forward_hook(transposed if isinstance(m, nn.ConvTranspose2d) else conv)
             for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        with torch.inference_mode():
            net.step(*inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return 2.0 * sum(macs)


def timed(fn: Callable[[], Tensor]) -> tuple[float, Tensor]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, nargs=2, default=(134, 320), metavar=("H", "W"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    h, w = args.size
    net = FRNet(4, "BD").eval()
    nets = {"original layout": original_layout(net), "vsr": net}
    inputs = (torch.rand(1, 3, h, w), torch.rand(1, 3, h, w), torch.rand(1, 3, 4 * h, 4 * w))
    flops = conv_flops(nets["original layout"], inputs)
    ceiling = nn.Conv2d(64, 64, 3, 1, 1).eval().to(memory_format=torch.channels_last)
    feature = torch.rand(1, 64, h, w).contiguous(memory_format=torch.channels_last)
    ceiling_flops = 2.0 * ceiling.weight.numel() * h * w
    dtypes = {"fp32": None, "bf16": torch.bfloat16}

    def run(fn: Callable[[], Tensor], dtype: torch.dtype | None) -> Callable[[], Tensor]:
        def once() -> Tensor:
            with torch.inference_mode(), torch.autocast("cpu", dtype=dtype,
                                                        enabled=dtype is not None):
                return fn()
        return once

    cells = {(name, p): run(lambda n=n: n.step(*inputs)[0], dtype)
             for p, dtype in dtypes.items() for name, n in nets.items()}
    ceilings = {p: run(lambda: ceiling(feature), dtype) for p, dtype in dtypes.items()}
    warm = {key: timed(fn) for key, fn in cells.items()}  # oneDNN primitives; the outputs
    reference = warm["original layout", "fp32"][1].float()
    diffs = {key: (out.float() - reference).abs().max().item() for key, (_, out) in warm.items()}
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {
        key: [] if seconds < SLOW_S else [(seconds, timed(ceilings[key[1]])[0])]
        for key, (seconds, _) in warm.items()}
    for _ in range(args.repeats):
        for key, fn in cells.items():
            if warm[key][0] < SLOW_S:
                samples[key].append((timed(fn)[0], timed(ceilings[key[1]])[0]))
    params = sum(p.numel() for p in net.parameters())
    print(f"FRNet x4 BD, LR {h}x{w} -> {4 * h}x{4 * w}, {args.threads} threads, median of "
          f"{args.repeats}; {params:,} parameters, {flops / 1e9:.2f} GFLOPs per step (2 x conv "
          f"MACs); ceiling: 3x3 64->64 conv at {h}x{w}")
    print(f"{'step':17s}{'prec':>6s}{'ms':>9s}{'fps':>7s}{'GFLOP/s':>9s}{'ceiling':>9s}"
          f"{'share':>7s}{'speed-up':>9s}{'max|diff|':>11s}")
    ms = {}
    for (name, p), pairs in samples.items():
        ms[name, p] = 1000 * statistics.median(t for t, _ in pairs)
        ceiling_rate = ceiling_flops / statistics.median(c for _, c in pairs) / 1e9
        rate = flops / ms[name, p] / 1e6
        once = " (1 run)" if len(pairs) == 1 and args.repeats > 1 else ""
        print(f"{name:17s}{p:>6s}{ms[name, p]:9.1f}{1000 / ms[name, p]:7.2f}{rate:9.1f}"
              f"{ceiling_rate:9.1f}{100 * rate / ceiling_rate:6.1f}%"
              f"{ms['original layout', p] / ms[name, p]:8.2f}x{diffs[name, p]:11.2e}{once}")
    fp32 = ms["vsr", "fp32"]
    if (h, w) != (134, 320):  # the recorded original time is for this size only
        return 0
    print(f"\nvsr fp32 step: {fp32:.1f} ms = {ORIGINAL_FP32_MS / fp32:.2f}x the original code's "
          f"{ORIGINAL_FP32_MS:.0f} ms recorded in issue 11 (target >= 1.3x: "
          f"{'met' if ORIGINAL_FP32_MS / fp32 >= 1.3 else 'MISSED'}); "
          f"{ms['original layout', 'fp32'] / fp32:.2f}x the original layout in this process")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
