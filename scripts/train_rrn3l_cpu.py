"""RRN-3L trained briefly on CPU from real frames, against Bicubic on Vid4 BD (RRN protocol).

Decodes the Big Buck Bunny clip in ../shared/data to data/bbb_frames/bbb (once), trains
configs/rrn/rrn_3l_x4_cpu_real.yaml, tests it and Bicubic on Vid4, and prints the margin:

    python scripts/train_rrn3l_cpu.py [--iters N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vsr.cli.main import main as vsr_main  # noqa: E402
from vsr.config.experiment import load_experiment  # noqa: E402
from vsr.io.frames import open_frame_sink, open_frame_source  # noqa: E402

# the configs read Vimeo/Vid4 under the data root: the samples beside the project by default
os.environ.setdefault("VSR_DATA", str(ROOT.parent / "shared" / "data"))
CONFIG = ROOT / "configs" / "rrn" / "rrn_3l_x4_cpu_real.yaml"
BICUBIC = ROOT / "configs" / "bicubic" / "bicubic_x4_vid4_bd_rrn.yaml"
CLIP = ROOT.parent / "shared" / "data" / "clips" / "big_buck_bunny_720p_1mb.mp4"


def _run(args: list[str]) -> None:
    if vsr_main(args):
        raise SystemExit(f"vsr {' '.join(args)} failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iters", type=int)
    args = parser.parse_args()
    frames = Path("data/bbb_frames/bbb")
    if not frames.is_dir():
        with open_frame_sink(frames, fps=None) as sink:
            for frame in open_frame_source(CLIP):
                sink.write(frame)
    overrides = [f"train.total_iters={args.iters}", f"train.val_every={args.iters}"] \
        if args.iters else []
    cfg = load_experiment(CONFIG, overrides)
    start = time.perf_counter()
    _run(["train", "-c", str(CONFIG), "--overwrite", *overrides])
    minutes = (time.perf_counter() - start) / 60
    _run(["test", "-c", str(BICUBIC)])
    ours = json.loads((cfg.experiment_dir / "val" / "results" / "Vid4.json").read_text())
    ref = json.loads((load_experiment(BICUBIC).experiment_dir / "results" /
                      "Vid4.json").read_text())
    a, b = ours["average"], ref["average"]
    print(f"RRN-3L after {cfg.train.total_iters} iterations ({minutes:.1f} min training incl. "
          f"validation): {a['PSNR']:.2f} dB / {a['SSIM']:.4f}; Bicubic {b['PSNR']:.2f} dB / "
          f"{b['SSIM']:.4f}; margin {a['PSNR'] - b['PSNR']:+.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
