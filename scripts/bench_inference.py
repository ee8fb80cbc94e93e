"""CPU inference speed of Bicubic, ELSR, RRN-3L and RRN-10L per precision and memory layout.

For each model and LR size: ms/frame in fp32 NCHW, fp32 channels_last and bf16 channels_last
(``torch.autocast("cpu", torch.bfloat16)`` with model and input in channels_last), the median of
``--repeats`` timings in this one process. Beside them, a 3x3 128->128 conv at the same size is the
machine's ceiling: the conv FLOP rate of each RRN (counting its convs) is given as a fraction of
that conv's rate in the same precision and layout. Then the PSNR change of each precision on a few
real Vid4 BD frames: SR of each precision against the fp32 NCHW SR and against the GT (Y, uint8).

RRN uses seeded random weights (no released RRN weights exist here), ELSR the real ELSR-torch x4
weights when present. RRN is driven one ``step`` per frame with its state carried.

    python scripts/bench_inference.py [--threads 2] [--repeats 5] [--frames 3]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch import Tensor, nn

from vsr.archs.bicubic import Bicubic
from vsr.archs.elsr import ELSR
from vsr.archs.rrn import RRN
from vsr.engine.checkpoint import load_weights
from vsr.io.image import list_frames, read_image
from vsr.metrics.color import rgb_to_y, to_uint8_grid
from vsr.metrics.psnr_ssim import psnr

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
ELSR_WEIGHTS = "weights/elsr_torch/best_X4_model.pth"
BD_LR = "Vid4/real_LR/BDx4_sigma1.5_TecoGAN/calendar"
GT = "Vid4/GT/calendar"
MODES = ("fp32 NCHW", "fp32 CL", "bf16 CL")
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


def conv_flops(model: nn.Module, h: int, w: int) -> float:
    """FLOPs (2 x MACs) of every conv of one frame at LR size h x w (all convs keep the size)."""
    macs = sum(
        m.weight.numel() * h * w for m in model.modules() if isinstance(m, nn.Conv2d)
    )
    return 2.0 * macs


@contextlib.contextmanager
def precision(mode: str) -> Iterator[None]:
    if mode.startswith("bf16"):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            yield
    else:
        yield


def layout(mode: str) -> torch.memory_format:
    return torch.channels_last if mode.endswith("CL") else torch.contiguous_format


def runner(model: nn.Module, frames: list[Tensor], mode: str) -> Callable[[], list[Tensor]]:
    """A function running ``model`` over ``frames`` (each (1, 3, h, w)) in ``mode``."""
    fmt = layout(mode)
    model = model.to(memory_format=fmt)
    frames = [f.contiguous(memory_format=fmt) for f in frames]

    @torch.inference_mode()
    def run() -> list[Tensor]:
        with precision(mode):
            if isinstance(model, RRN):
                out, state = [], None
                for i, frame in enumerate(frames):
                    prev = frames[i - 1] if i > 0 else frames[1]
                    sr, state = model.step(prev, frame, state)
                    out.append(sr.float())
                return out
            return [model(f).float() for f in frames]

    return run


def median_ms(fn: Callable[[], object], repeats: int, per: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times) / per


def ceiling_gflops(h: int, w: int, mode: str, repeats: int) -> float:
    conv = nn.Conv2d(128, 128, 3, padding=1).eval()
    x = torch.rand(1, 128, h, w)
    run = runner(conv, [x] * 3, mode)
    return conv_flops(conv, h, w) / median_ms(run, repeats, 3) / 1e6


def speed_table(models: dict[str, nn.Module], repeats: int) -> None:
    for h, w in SIZES:
        ceilings = {m: ceiling_gflops(h, w, m, repeats) for m in MODES if m != "fp32 NCHW"}
        ceilings["fp32 NCHW"] = ceiling_gflops(h, w, "fp32 NCHW", repeats)
        print(f"\nLR {h}x{w}: 3x3 128->128 conv ceiling GFLOP/s: "
              + ", ".join(f"{m} {ceilings[m]:.0f}" for m in MODES))
        print(f"{'model':10s}" + "".join(f"{m + ' ms':>16s}" for m in MODES)
              + f"{'CL/NCHW':>9s}" + "".join(f"{m + ' %ceil':>17s}" for m in MODES))
        frames = [torch.rand(1, 3, h, w) for _ in range(3)]
        for name, model in models.items():
            ms = {m: median_ms(runner(model, frames, m), repeats, len(frames)) for m in MODES}
            flops = conv_flops(model, h, w)
            row = f"{name:10s}" + "".join(f"{ms[m]:16.1f}" for m in MODES)
            row += f"{ms['fp32 NCHW'] / ms['fp32 CL']:9.2f}"
            if flops:
                row += "".join(f"{100 * flops / ms[m] / 1e6 / ceilings[m]:16.0f}%" for m in MODES)
            print(row)


def read_frames(folder: Path, count: int) -> list[Tensor]:
    paths = list_frames(folder)[:count]
    return [torch.from_numpy(read_image(p)).permute(2, 0, 1)[None].float() / 255 for p in paths]


def y_psnr(sr: Tensor, ref: Tensor) -> float:
    return psnr(rgb_to_y(to_uint8_grid(sr)), rgb_to_y(to_uint8_grid(ref)))


def quality_table(models: dict[str, nn.Module], data: Path, count: int) -> None:
    lr, gt = read_frames(data / BD_LR, count), read_frames(data / GT, count)
    print(f"\nVid4 calendar BD x4, first {count} frames: Y-PSNR (dB, uint8) of each precision "
          "against the fp32 NCHW SR | against GT")
    print(f"{'model':10s}" + "".join(f"{m:>22s}" for m in MODES))
    for name, model in models.items():
        reference = runner(model, lr, "fp32 NCHW")()
        row = f"{name:10s}"
        for mode in MODES:
            srs = runner(model, lr, mode)()
            vs_fp32 = statistics.mean(y_psnr(s, r) for s, r in zip(srs, reference))
            vs_gt = statistics.mean(y_psnr(s, g) for s, g in zip(srs, gt))
            row += f"{vs_fp32:>13.2f} | {vs_gt:6.2f}"
        print(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=3, help="Vid4 frames for the PSNR table")
    parser.add_argument("--data", type=Path, default=SHARED.resolve())
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    models = build_models(args.data)
    if not args.skip_speed:
        speed_table(models, args.repeats)
    if (args.data / BD_LR).exists():
        quality_table(build_models(args.data), args.data, args.frames)


if __name__ == "__main__":
    main()
