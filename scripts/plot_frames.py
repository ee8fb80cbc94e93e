"""Plot a per-frame results CSV (written by the Evaluator under results/<dataset>/<clip>.csv):
model latency and one metric over frames, e.g. for a foveated run

    python scripts/plot_frames.py experiments/focas25_eyetracking/results/HD/VIDEO/observer5.csv \
        --metric EWPSNR -o latency_ewpsnr.png
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_frames(csv_path: Path, metric: str, out: Path) -> None:
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or metric not in rows[0]:
        have = ", ".join(rows[0]) if rows else "no rows"
        raise SystemExit(f"{csv_path}: no column '{metric}' (columns: {have})")
    frames = [int(r["frame"]) for r in rows]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(frames, [float(r["model_ms"]) for r in rows], color="tab:blue")
    ax.set_xlabel("frame")
    ax.set_ylabel("model ms / frame", color="tab:blue")
    scored = [(i, float(r[metric])) for i, r in zip(frames, rows) if r[metric]]
    other = ax.twinx()
    other.plot([i for i, _ in scored], [v for _, v in scored], color="tab:red")
    other.set_ylabel(metric, color="tab:red")
    ax.set_title(csv_path.stem)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("csv", type=Path)
    parser.add_argument("--metric", default="EWPSNR")
    parser.add_argument("-o", "--output", type=Path, default=Path("frames.png"))
    args = parser.parse_args()
    plot_frames(args.csv, args.metric, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
