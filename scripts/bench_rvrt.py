"""RVRT and RVRT Light on CPU: ms per frame and peak RSS at LR 64×64 and 144×180, 2 and 8
frames (8 so the guided deformable attention runs on 3 clips), fp32 and bf16, whole frames and
64×64 LR tiles (overlap 16). Random weights (the compute does not depend on them). Each case runs
in its own child process so its peak RSS (``ru_maxrss``) is its own; the time is the median of
``--repeats`` forwards after one warm-up (fewer for the big cases: ``--big-repeats``). The
issue's reference: the original's non-GDA parts, 2 frames 144×180, 13.35 s fp32 / 8.90 s bf16
with a 2.0 GiB peak; 64×64 1.52 s / 0.87 s.

    OMP_NUM_THREADS=1 python scripts/bench_rvrt.py --out /tmp/bench_rvrt.json
    python scripts/bench_rvrt.py --models RVRTLight --sizes 64x64 --frames 2 --repeats 1
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vsr.archs.precision import Precision  # noqa: E402
from vsr.archs.sequence import ChunkSpec  # noqa: E402
from vsr.archs.tiles import TileSpec, stream_tiled  # noqa: E402
from vsr.registry import ARCHS  # noqa: E402

TILE = TileSpec((64, 64), 16)


def run_case(model: str, size: tuple[int, int], frames: int, precision: str, tiled: bool,
             repeats: int) -> dict:
    """One case in this process: median seconds of a whole clip, per frame, and peak RSS."""
    torch.manual_seed(0)
    arch = ARCHS.build({"type": model}).eval()
    clip = [torch.rand(3, *size) for _ in range(frames)]
    chunk = ChunkSpec(frames, 0)

    def once() -> float:
        start = time.perf_counter()
        with torch.no_grad():
            for _ in stream_tiled(arch, clip, TILE if tiled else None, "cpu", chunk=chunk,
                                  precision=Precision(precision)):
                pass
        return time.perf_counter() - start

    once()  # warm-up
    seconds = statistics.median(once() for _ in range(repeats))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    return {"ms_per_frame": 1000 * seconds / frames, "peak_rss_gib": rss}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["RVRT", "RVRTLight"])
    parser.add_argument("--sizes", nargs="+", default=["64x64", "144x180"])
    parser.add_argument("--frames", nargs="+", type=int, default=[2, 8])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--tiles", nargs="+", default=["none", "64"], help="none and/or 64")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big-repeats", type=int, default=1, help="for 144x180 with 8 frames")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # child: one JSON case
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.case:
        case = json.loads(args.case)
        print(json.dumps(run_case(case["model"], tuple(case["size"]), case["frames"],
                                  case["precision"], case["tiled"], case["repeats"])))
        return 0
    rows = []
    print("| model | LR | frames | precision | tiles | ms/frame | peak RSS GiB |")
    print("|---|---|---|---|---|---|---|")
    for model, size, frames, precision, tiles in itertools.product(
            args.models, args.sizes, args.frames, args.precisions, args.tiles):
        h, w = (int(v) for v in size.split("x"))
        big = h * w > 64 * 64 and frames > 2
        case = {"model": model, "size": [h, w], "frames": frames, "precision": precision,
                "tiled": tiles != "none", "repeats": args.big_repeats if big else args.repeats}
        out = subprocess.run([sys.executable, __file__, "--case", json.dumps(case)],
                             capture_output=True, text=True, check=True)
        result = {**case, **json.loads(out.stdout.strip().splitlines()[-1])}
        rows.append(result)
        tile = "64x64/16" if case["tiled"] else "none"
        print(f"| {model} | {size} | {frames} | {precision} | {tile} | "
              f"{result['ms_per_frame']:.0f} | {result['peak_rss_gib']:.2f} |", flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
