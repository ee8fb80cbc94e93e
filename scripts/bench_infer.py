"""Throughput of ``vsr infer`` on one clip: decode-only, model-only, encode-only and end to end.

Makes a 320x180 input from a real clip (area downscale, x264 crf 18), then in one process times
each stage alone on the whole clip (decode: frames to LR tensors; model: ELSR x4 with real weights
on LR tensors held in memory; encode: the SR frames, already uint8, into an mp4) and the whole
``infer`` command, pipelined (``--queue-frames``) and sequential (``--queue-frames 0``, the
baseline). Each figure is the median of ``--repeats`` runs. The pipeline's target is end-to-end
>= 0.9 x the slowest stage.

Overlap only helps while the stages leave cores idle: each stage's CPU seconds per frame (all of
this process's threads, x264's included) are measured too, and the end-to-end rate can be at most
``cores / (sum of the stages' CPU seconds per frame)``. The table gives that bound and each
end-to-end rate as a fraction of min(slowest stage, bound).

    python scripts/bench_infer.py [--clip CLIP.mp4] [--weights best_X4_model.pth] [--repeats 3]
                                  [--preset medium] [--crf 18] [--codec libx264]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import cv2
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vsr.archs.sequence import stream  # noqa: E402
from vsr.cli.infer import _decoded  # noqa: E402
from vsr.cli.main import main  # noqa: E402
from vsr.engine.checkpoint import load_weights  # noqa: E402
from vsr.engine.memory import keep_freed_blocks  # noqa: E402
from vsr.io.frames import open_frame_source, tensor_to_frame  # noqa: E402
from vsr.io.video import VideoReader, VideoWriter  # noqa: E402
from vsr.registry import ARCHS  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
ARCH = "{type: ELSR, scale: 4}"


def make_input(clip: Path, out: Path, size: tuple[int, int]) -> int:
    """The clip area-downscaled to ``size`` (H, W); its frame count."""
    reader = VideoReader(clip)
    with VideoWriter(out, reader.fps) as writer:
        for frame in reader:
            writer.write(cv2.resize(frame, size[::-1], interpolation=cv2.INTER_AREA))
    return writer.frames_written


class Rate(NamedTuple):
    fps: float
    cpu_per_frame: float  # CPU seconds of all threads per frame


def median_rate(frames: int, run, repeats: int) -> Rate:
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return Rate(frames / statistics.median(times), statistics.median(cpu) / frames)


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=SHARED / "clips" /
                        "big_buck_bunny_720p_1mb.mp4")
    parser.add_argument("--weights", type=Path, default=SHARED / "weights" / "elsr_torch" /
                        "best_X4_model.pth")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queue-frames", type=int, default=8)
    parser.add_argument("--codec", default="libx264")
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--preset", default="medium")
    args = parser.parse_args()
    keep_freed_blocks()  # as the CLI does
    encoder = {"codec": args.codec, "crf": args.crf, "preset": args.preset}
    flags = ["--codec", args.codec, "--crf", str(args.crf), "--preset", args.preset]

    with tempfile.TemporaryDirectory() as tmp:
        lr_clip, out = Path(tmp) / "lr.mp4", Path(tmp) / "sr.mp4"
        n = make_input(args.clip, lr_clip, (180, 320))
        net = ARCHS.build({"type": "ELSR", "scale": 4})
        load_weights(net, args.weights)
        net.eval()
        lr = list(_decoded(open_frame_source(lr_clip)))
        sr = [tensor_to_frame(f) for f in stream(net, lr, "cpu", 4)]

        def encode() -> None:
            with VideoWriter(out, 25, **encoder) as writer:
                for frame in sr:
                    writer.write(frame)

        def infer(depth: int) -> None:
            code = main(["infer", "--arch", ARCH, "--weights", str(args.weights), "-i",
                         str(lr_clip), "-o", str(out), "--overwrite", "--no-audio",
                         "--queue-frames", str(depth), *flags])
            assert code == 0

        rows = {
            "decode only": median_rate(n, lambda: sum(1 for _ in _decoded(
                open_frame_source(lr_clip))), args.repeats),
            "model only": median_rate(n, lambda: sum(1 for _ in stream(net, lr, "cpu", 4)),
                                     args.repeats),
            "encode only": median_rate(n, encode, args.repeats),
            "end to end, sequential": median_rate(n, lambda: infer(0), args.repeats),
            f"end to end, pipelined (queue {args.queue_frames})": median_rate(
                n, lambda: infer(args.queue_frames), args.repeats),
        }
    stages = [rows["decode only"], rows["model only"], rows["encode only"]]
    slowest = min(rate.fps for rate in stages)
    cores = len(os.sched_getaffinity(0))
    bound = cores / sum(rate.cpu_per_frame for rate in stages)
    limit = min(slowest, bound)
    print(f"\n{args.clip.name} at 320x180 -> 1280x720, {n} frames, ELSR x4, "
          f"{args.codec} crf {args.crf} preset {args.preset}, torch threads "
          f"{torch.get_num_threads()}, {cores} cores, median of {args.repeats}")
    print(f"| {'stage':<36} | {'fps':>7} | {'CPU ms/frame':>12} | {'x slowest stage':>15} "
          f"| {'x limit':>7} |")
    print(f"|{'-' * 38}|{'-' * 9}|{'-' * 14}|{'-' * 17}|{'-' * 9}|")
    for name, rate in rows.items():
        print(f"| {name:<36} | {rate.fps:7.2f} | {1000 * rate.cpu_per_frame:12.1f} "
              f"| {rate.fps / slowest:15.2f} | {rate.fps / limit:7.2f} |")
    print(f"\nCPU bound: {cores} cores / {1000 * (cores / bound):.1f} CPU ms per frame over the "
          f"three stages = {bound:.2f} fps; limit = min(slowest stage, bound) = {limit:.2f} fps")

if __name__ == "__main__":
    main_bench()
