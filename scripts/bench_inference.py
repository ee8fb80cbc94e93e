"""CPU inference speed of Bicubic, ELSR, RRN-3L and RRN-10L per precision and memory layout.

For each model and LR size: ms/frame in fp32 NCHW, fp32 channels_last and bf16 channels_last, run
through ``vsr.archs.sequence.stream(..., precision=Precision(dtype, channels_last))`` -- the path
test.py and infer.py take -- the median of ``--repeats`` timings in this one process. Beside them,
a 3x3 128->128 conv at the same size in the same precision and layout is the machine's ceiling:
each model's conv FLOP rate (its convs counted by hooks on one frame) is given in GFLOP/s and as a
percentage of that ceiling. Then the PSNR change of each precision on a few real Vid4 BD frames:
SR of each precision against the fp32 NCHW SR and against the GT (Y, uint8 grid).

RRN uses seeded random weights (no released RRN weights exist here), ELSR the real ELSR-torch x4
weights when present. ``--quick`` runs only the Vid4 LR size with fewer repeats (about a minute).

    python scripts/bench_inference.py [--threads 2] [--repeats 3] [--frames 2] [--quick]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from torch import Tensor, nn

from vsr.archs.bicubic import Bicubic
from vsr.archs.elsr import ELSR
from vsr.archs.precision import Precision
from vsr.archs.rrn import RRN
from vsr.archs.sequence import stream
from vsr.engine.checkpoint import load_weights
from vsr.engine.memory import keep_freed_blocks
from vsr.io.color import rgb_to_y, to_uint8_grid
from vsr.io.image import list_frames, read_image
from vsr.metrics.psnr_ssim import psnr

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
ELSR_WEIGHTS = "weights/elsr_torch/best_X4_model.pth"
BD_LR = "Vid4/real_LR/BDx4_sigma1.5_TecoGAN/calendar"
GT = "Vid4/GT/calendar"
MODES = {"fp32 NCHW": Precision(), "fp32 CL": Precision("fp32", True),
         "bf16 CL": Precision("bf16", True)}
SIZES = ((144, 180), (270, 480))


def build_models(data: Path) -> dict[str, nn.Module]:
    torch.manual_seed(0)
    elsr = ELSR(scale=4)
    if (data / ELSR_WEIGHTS).exists():
        load_weights(elsr, data / ELSR_WEIGHTS)
    models = {"Bicubic": Bicubic(4), "ELSR": elsr}
    for blocks in (3, 10):
        models[f"RRN-{blocks}L"] = RRN(4, 128, blocks)
    return {name: m.eval() for name, m in models.items()}


def per_mode(model: nn.Module) -> dict[str, nn.Module]:
    """One copy of ``model`` per mode: ``stream`` converts parameters to channels-last in place."""
    return {mode: copy.deepcopy(model) for mode in MODES}


def sr_frames(model: nn.Module, frames: list[Tensor], mode: str) -> list[Tensor]:
    """SR of ``frames`` (each (3, h, w)) as test.py/infer.py run them in ``mode``."""
    return list(stream(model, frames, precision=MODES[mode]))


def conv_flops_per_frame(model: nn.Module, h: int, w: int) -> float:
    """FLOPs (2 x MACs) of every conv the model runs on one frame of size h x w."""
    macs: list[int] = []

    def count(conv: nn.Conv2d, _inputs: object, out: Tensor) -> None:
        k = conv.weight.shape[1] * conv.weight.shape[2] * conv.weight.shape[3]
        macs.append(out.numel() * k)

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        sr_frames(model, [torch.rand(3, h, w)], "fp32 NCHW")
    finally:
        for hook in hooks:
            hook.remove()
    return 2.0 * sum(macs)


BUDGET_S = 20.0
"""Rounds are cut to what fits in about this many seconds per mode, and warm-ups longer than
that are the one sample: bf16 convolution without hardware bf16 (AVX2 only) is ~20x slower
than fp32."""


def timed_s(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved_median_s(
    runs: dict[str, Callable[[], object]], ceilings: dict[str, Callable[[], object] | None],
    repeats: int,
) -> dict[str, tuple[float, float]]:
    """Median seconds of each mode's run and of its ceiling conv (0 where None), all timed in
    alternation round by round, so ratios between modes and against the ceiling see the same
    load (the CPU is shared by other processes)."""
    ceilings = {m: c or (lambda: None) for m, c in ceilings.items()}
    warm = {m: timed_s(fn) for m, fn in runs.items()}  # oneDNN primitive creation, caches
    for ceiling in ceilings.values():
        ceiling()
    rounds = max(1, min(repeats, int(BUDGET_S * len(runs) // sum(warm.values()))))
    if sum(warm.values()) >= BUDGET_S * len(runs):  # too slow to repeat: the warm-up is the one
        return {m: (warm[m], timed_s(ceilings[m])) for m in runs}
    samples: dict[str, list[tuple[float, float]]] = {m: [] for m in runs}
    for _ in range(rounds):
        for m, fn in runs.items():
            samples[m].append((timed_s(fn), timed_s(ceilings[m])))
    return {m: (statistics.median(t for t, _ in pairs), statistics.median(c for _, c in pairs))
            for m, pairs in samples.items()}


def ceiling_conv(h: int, w: int, mode: str) -> tuple[Callable[[], None], float]:
    """One 3x3 128->128 conv at h x w in ``mode``, and its FLOPs."""
    precision = MODES[mode]
    conv = nn.Conv2d(128, 128, 3, padding=1).eval()
    precision.prepare(conv, "cpu")
    x = precision.layout(torch.rand(1, 128, h, w))

    @torch.inference_mode()
    def run() -> None:
        with precision.autocast("cpu"):
            conv(x)

    return run, 2.0 * conv.weight.numel() * h * w


def speed_table(models: dict[str, nn.Module], sizes, repeats: int, count: int) -> dict:
    """Prints one table per size; returns {(model, size, mode): (ms, percent of ceiling)}.

    Each model's conv rate is compared with the ceiling conv timed alternately with it."""
    results = {}
    for h, w in sizes:
        ceilings = {m: ceiling_conv(h, w, m) for m in MODES}
        print(f"\nLR {h}x{w}, {count} frames per timing, median of up to {repeats} (cut to "
              f"~{BUDGET_S:.0f} s per cell); per mode: ms/frame, conv GFLOP/s, % of the 3x3 "
              "128->128 conv ceiling [ceiling GFLOP/s]", flush=True)
        print(f"{'model':10s}" + "".join(f"{m:>32s}" for m in MODES) + f"{'NCHW/CL':>9s}",
              flush=True)
        frames = [torch.rand(3, h, w) for _ in range(count)]
        for name, model in models.items():
            copies = per_mode(model)
            flops = conv_flops_per_frame(model, h, w)
            runs = {m: partial(sr_frames, copies[m], frames, m) for m in MODES}
            timings = interleaved_median_s(
                runs, {m: ceilings[m][0] if flops else None for m in MODES}, repeats)
            row = f"{name:10s}"
            ms = {}
            for m, (seconds, ceiling_s) in timings.items():
                ms[m] = 1000 * seconds / count
                if flops:
                    rate, ceiling = flops / ms[m] / 1e6, ceilings[m][1] / ceiling_s / 1e9
                    share = 100 * rate / ceiling
                    results[name, (h, w), m] = (ms[m], share)
                    row += f"{ms[m]:10.1f} {rate:5.0f} {share:5.1f}% [{ceiling:5.0f}]"
                else:
                    row += f"{ms[m]:10.1f}{'':22s}"
            print(row + f"{ms['fp32 NCHW'] / ms['fp32 CL']:9.2f}", flush=True)
    return results


def read_frames(folder: Path, count: int) -> list[Tensor]:
    paths = list_frames(folder)[:count]
    return [torch.from_numpy(read_image(p)).permute(2, 0, 1).float() / 255 for p in paths]


def y_psnr(sr: Tensor, ref: Tensor) -> float:
    return psnr(rgb_to_y(to_uint8_grid(sr[None])), rgb_to_y(to_uint8_grid(ref[None])))


def quality_table(models: dict[str, nn.Module], data: Path, count: int) -> None:
    lr, gt = read_frames(data / BD_LR, count), read_frames(data / GT, count)
    print(f"\nVid4 calendar BD x4, first {count} frames: Y-PSNR (dB, uint8) of each precision "
          "against the fp32 NCHW SR | against GT", flush=True)
    print(f"{'model':10s}" + "".join(f"{m:>22s}" for m in MODES), flush=True)
    for name, model in models.items():
        copies = per_mode(model)
        reference = sr_frames(copies["fp32 NCHW"], lr, "fp32 NCHW")
        row = f"{name:10s}"
        for mode in MODES:
            srs = sr_frames(copies[mode], lr, mode)
            vs_fp32 = statistics.mean(y_psnr(s, r) for s, r in zip(srs, reference))
            vs_gt = statistics.mean(y_psnr(s, g) for s, g in zip(srs, gt))
            row += f"{vs_fp32:>13.2f} | {vs_gt:6.2f}"
        print(row, flush=True)


def check_targets(results: dict) -> None:
    """The issue's targets for RRN-10L at the Vid4 LR size."""
    key = ("RRN-10L", SIZES[0])
    if (*key, "bf16 CL") not in results:
        return
    bf16_share = results[(*key, "bf16 CL")][1]
    speedup = results[(*key, "fp32 NCHW")][0] / results[(*key, "fp32 CL")][0]
    print(f"\nRRN-10L {SIZES[0][0]}x{SIZES[0][1]}: bf16 CL at {bf16_share:.1f}% of the bf16 "
          f"ceiling (target >= 90%): {'met' if bf16_share >= 90 else 'MISSED'}; fp32 CL "
          f"{speedup:.2f}x fp32 NCHW (target >= 1.1x): {'met' if speedup >= 1.1 else 'MISSED'}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=2, help="frames per timing")
    parser.add_argument("--psnr-frames", type=int, default=3, help="Vid4 frames, PSNR table")
    parser.add_argument("--quick", action="store_true",
                        help="Vid4 LR size only, 2 repeats of 1 frame, 2 PSNR frames")
    parser.add_argument("--data", type=Path, default=SHARED.resolve())
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    keep_freed_blocks()  # as the CLI does
    if args.quick:
        args.repeats, args.frames, args.psnr_frames = 2, 1, 2
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    models = build_models(args.data)
    if not args.skip_speed:
        sizes = SIZES[:1] if args.quick else SIZES
        check_targets(speed_table(models, sizes, args.repeats, args.frames))
    if (args.data / BD_LR).exists():
        quality_table(models, args.data, args.psnr_frames)


if __name__ == "__main__":
    main()
