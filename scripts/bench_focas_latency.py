"""Latency and quality of full RRN-10L against every FOCAS preset on the same frames.

Runs Bicubic, RRN-10L and each FOCAS preset (regions scaled to the video height) with the one
Evaluator over the first video-observer pair of an HD eye-tracking dataset (the real one, or
scripts/make_eyetracking_sample.py's), with that observer's gaze, in both inference modes of the
original (MODELS.md §2.3):

* recurrent (infer_rec.py): full RRN-10L on 1 frame of every 4, the model on the other 3,
  recurrence restarting every 50 frames;
* non-recurrent (infer_non_rec.py): the model on every frame from zero state.

Per model: model time per frame from the Evaluator's per-frame CSV (first ``--warmup`` frames
dropped; CUDA synchronised by its timer) as the median over the foveated frames and the mean over
all frames (which includes the schedule's full frames), Y-PSNR and EWPSNR (FOCAS Y, sigma 64, and
the original's normalisation), their cost against RRN-10L, and the foveated-frame speedup next to
the ratios it is compared with: trunk work (blocks x LR pixels) and the FLOPs of a whole step.

    python scripts/bench_focas_latency.py ROOT [--weights RRN-10L.pth] [--frames 12]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from make_eyetracking_sample import parse_size  # noqa: E402  (scripts/ is on sys.path)

from vsr.archs.bicubic import Bicubic  # noqa: E402
from vsr.archs.focas import FOCAS, FOCAS_PRESETS  # noqa: E402
from vsr.data.eyetracking import EyeTrackingHD  # noqa: E402
from vsr.engine.checkpoint import load_weights  # noqa: E402
from vsr.engine.evaluator import Evaluator  # noqa: E402
from vsr.foveation.latency import workload  # noqa: E402
from vsr.io.image import atomic_write_bytes  # noqa: E402
from vsr.metrics.foveated import EWPSNR  # noqa: E402
from vsr.metrics.psnr_ssim import PSNR  # noqa: E402

MODES = {
    "recurrent": {"full_frames": 1, "foveated_frames": 3, "segment": 50},
    "non-recurrent": {"recurrent": False},
}


def trunk_work(net: FOCAS, frame_lr: tuple[int, int]) -> float:
    """Blocks x LR pixels of the trunk on one foveated frame (gaze inside the frame)."""
    areas = [h * w for h, w in net.lr_regions(frame_lr)]
    return workload(net.blocks, areas, frame_lr)


def step_flops(preset: str, frame_lr: tuple[int, int]) -> float:
    """FLOPs of one foveated step (gaze at the centre), counted on the meta device: the trunk
    plus the full-frame layers (input conv, heads) that foveation does not shrink."""
    net = FOCAS(preset=preset).to("meta")
    lr = torch.empty(2, 1, 3, *frame_lr, device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net.step(lr[0], lr[1], None, gaze=(frame_lr[0] * 2, frame_lr[1] * 2))
    return float(counter.get_total_flops())


def run_model(net: nn.Module, dataset: EyeTrackingHD, metrics: dict, out: Path,
              warmup: int) -> dict:
    """One Evaluator run; latency statistics from its per-frame CSV."""
    scores = Evaluator({"hd": dataset}, metrics, out).evaluate(net)["hd"]
    clip = dataset.clips()[0]
    with open(out / "results" / "hd" / f"{clip.name}.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))[warmup:]
    times = [float(r["model_ms"]) for r in rows]
    runs_full = getattr(net, "runs_full", lambda frame: False)  # Bicubic has no schedule
    foveated = [float(r["model_ms"]) for r in rows if not runs_full(int(r["frame"]))]
    return {"median_ms": statistics.median(foveated or times), "mean_ms": statistics.fmean(times),
            **scores}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", help="HD_UHD_Eyetracking_Videos-style folder")
    parser.add_argument("--weights", help="RRN-10L weights (default: seeded initialisation)")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--size", type=parse_size, default=(1080, 1920),
                        help="WxH of the raw videos (1920x1080 in the real dataset)")
    parser.add_argument("--out", default="results/focas_latency")
    args = parser.parse_args()
    dataset = EyeTrackingHD(args.root, max_frames=args.frames, frame_size=args.size)
    clip = dataset.clips()[0]
    dataset.clips = lambda: [clip]  # one video-observer pair, the same frames for every model
    size = tuple(clip.gt_size)
    frame_lr = (size[0] // 4, size[1] // 4)
    metrics = {"PSNR": PSNR(channel="y", y_formula="focas"), "EWPSNR": EWPSNR(),
               "EWPSNR_focas": EWPSNR(normalization="focas")}
    torch.manual_seed(0)
    reference = FOCAS(preset="RRN10")
    if args.weights:
        load_weights(reference, args.weights)
    out_root = Path(args.out)
    bicubic = run_model(Bicubic(4), dataset, metrics, out_root / "Bicubic", args.warmup)
    results: dict[str, dict[str, dict]] = {}
    for mode_name in args.modes:
        mode = MODES[mode_name]
        results[mode_name] = {}
        for name in FOCAS_PRESETS:
            net = FOCAS(preset=name, **mode).eval()
            net.load_state_dict(reference.state_dict())
            row = run_model(net, dataset, metrics, out_root / mode_name / name, args.warmup)
            row["work"] = trunk_work(net, frame_lr)
            row["gflops"] = step_flops(name, frame_lr) / 1e9
            results[mode_name][name] = row
            print(f"{mode_name} {name}: {row['median_ms']:.0f} ms/foveated frame, "
                  f"{row['PSNR']:.2f} dB", flush=True)
    text = summary(results, bicubic, clip.name, size, args)
    record = {"clip": clip.name, "size": size, "frames": args.frames, "warmup": args.warmup,
              "weights": args.weights, "bicubic": bicubic, "modes": results}
    atomic_write_bytes(out_root / "summary.json", json.dumps(record, indent=2).encode())
    atomic_write_bytes(out_root / "summary.md", text.encode())
    print(text)
    return 0


def summary(results: dict, bicubic: dict, clip: str, size: tuple, args: argparse.Namespace) -> str:
    weights = args.weights or "seeded random RRN-10L weights (quality meaningless)"
    lines = [f"# FOCAS vs RRN-10L at {size[0]}x{size[1]}",
             "",
             f"{clip}, frames 0-{args.frames - 1}, timings without the first {args.warmup}; "
             f"weights: {weights}. Bicubic: {bicubic['PSNR']:.2f} dB PSNR, "
             f"{bicubic['EWPSNR']:.2f} dB EWPSNR, {bicubic['median_ms']:.0f} ms/frame.", ""]
    for mode_name, rows in results.items():
        base = rows["RRN10"]
        lines += [f"## {mode_name}", "",
                  "| model | ms/foveated frame (median) | ms/frame (mean) | speedup | "
                  "trunk-work ratio | GFLOPs/step | FLOPs ratio | PSNR | EWPSNR | "
                  "EWPSNR (FOCAS norm.) | ΔPSNR | ΔEWPSNR |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, r in rows.items():
            lines.append(
                f"| {name} | {r['median_ms']:.0f} | {r['mean_ms']:.0f} | "
                f"{base['median_ms'] / r['median_ms']:.2f} | {base['work'] / r['work']:.2f} | "
                f"{r['gflops']:.1f} | {base['gflops'] / r['gflops']:.2f} | "
                f"{r['PSNR']:.2f} | {r['EWPSNR']:.2f} | {r['EWPSNR_focas']:.2f} | "
                f"{r['PSNR'] - base['PSNR']:+.2f} | {r['EWPSNR'] - base['EWPSNR']:+.2f} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
