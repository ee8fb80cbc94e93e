"""Latency and quality of full RRN-10L against every FOCAS preset on the same frames.

Runs each model with the one Evaluator over the first clip of an HD eye-tracking dataset (the
real one, or scripts/make_eyetracking_sample.py's), recurrent, with that observer's gaze:
model time per frame (first ``--warmup`` frames dropped, median of the rest; CUDA synchronised),
Y-PSNR and EWPSNR (FOCAS Y, sigma 64), their cost against RRN-10L, the measured speedup and the
ratio of trunk work (blocks x LR pixels) it is compared with.

    python scripts/bench_focas_latency.py ROOT [--weights RRN-10L.pth] [--frames 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vsr.archs.focas import FOCAS, FOCAS_PRESETS  # noqa: E402
from vsr.data.eyetracking import EyeTrackingHD  # noqa: E402
from vsr.engine.checkpoint import load_weights  # noqa: E402
from vsr.engine.evaluator import Evaluator  # noqa: E402
from vsr.foveation.latency import lr_frame, lr_side_area, workload  # noqa: E402
from vsr.metrics.foveated import EWPSNR  # noqa: E402
from vsr.metrics.psnr_ssim import PSNR  # noqa: E402


def trunk_work(blocks: list[int], regions: list, size: tuple[int, int]) -> float:
    frame = lr_frame(size)
    return workload(blocks, [lr_side_area(r[0], frame) for r in regions[1:]], frame)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", help="HD_UHD_Eyetracking_Videos-style folder")
    parser.add_argument("--weights", help="RRN-10L weights (default: seeded initialisation)")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--out", default="results/focas_latency")
    args = parser.parse_args()
    dataset = EyeTrackingHD(args.root, max_frames=args.frames)
    clip = dataset.clips()[0]
    dataset.clips = lambda: [clip]  # one video-observer pair, the same frames for every model
    size = tuple(clip.gt_size)
    metrics = {"PSNR": PSNR(channel="y", y_formula="focas"), "EWPSNR": EWPSNR()}
    rows = {}
    torch.manual_seed(0)
    reference = FOCAS(blocks=[10], regions=["full"])
    for name, preset in FOCAS_PRESETS.items():
        net = FOCAS(**preset).eval()
        if args.weights:
            load_weights(net, args.weights)
        else:
            net.load_state_dict(reference.state_dict())
        out = Path(args.out) / name
        scores = Evaluator({"hd": dataset}, metrics, out).evaluate(net)["hd"]
        record = json.loads((out / "results" / "hd.json").read_text())
        csv_rows = (out / "results" / "hd" / f"{clip.name}.csv").read_text().splitlines()[1:]
        times = [float(r.split(",")[1]) for r in csv_rows][args.warmup:]
        rows[name] = {"ms": statistics.median(times), **scores,
                      "work": trunk_work(preset["blocks"], preset["regions"], size),
                      "frames": record["frames"]}
        print(f"{name}: {rows[name]['ms']:.0f} ms/frame", flush=True)
    base = rows["RRN10"]
    lines = [f"# FOCAS vs RRN-10L at {size[0]}x{size[1]} ({clip.name}, {args.frames} frames, "
             f"median of the last {args.frames - args.warmup})", "",
             "| model | ms/frame | speedup | trunk-work ratio | PSNR | EWPSNR | ΔPSNR | ΔEWPSNR |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['ms']:.0f} | {base['ms'] / r['ms']:.2f} | "
                     f"{base['work'] / r['work']:.2f} | {r['PSNR']:.2f} | {r['EWPSNR']:.2f} | "
                     f"{r['PSNR'] - base['PSNR']:+.2f} | {r['EWPSNR'] - base['EWPSNR']:+.2f} |")
    text = "\n".join(lines) + "\n"
    (Path(args.out) / "summary.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
