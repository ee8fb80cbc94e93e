"""NVVL's data-loader table on this machine: the same frames served as training windows from mp4
(short GOP and the shipped GOP), PNG folders, LMDB of PNGs (BasicSR layout) and LMDB of raw
bytes (TecoGAN layout), through a DataLoader with forked workers, as a training run reads them.

    python scripts/bench_io.py [--video ../shared/data/clips/big_buck_bunny_720p_1mb.mp4]
        [--iters 12] [--workers 2] [--out results/bench_io]

Per row: data time per iteration (median, p95) with batches of 3-frame windows (7 at 540p, 4 at
720p, as NVVL's table), with and without a 960x540 crop, pixels/s, CPU use of the loader's
processes (CPU seconds per wall second: 1.0 = one core busy), their peak RSS (sum of VmHWM),
disk bytes per frame; and a random 7-frame window's latency read in the main process. Writes
``OUT/bench_io.md``, ``OUT/bench_io.json`` and ``OUT/bench_io.png``. Every loader reads through
``vsr.data.storage.open_store``, the path training takes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from create_lmdb import create_lmdb  # noqa: E402
from create_tecogan_lmdb import create_tecogan_lmdb  # noqa: E402

from vsr.data.storage import open_store  # noqa: E402
from vsr.io.image import write_image  # noqa: E402
from vsr.io.video import VideoReader, VideoWriter  # noqa: E402

WINDOW = 3
BATCH = {540: 7, 720: 4}
CROP = (540, 960)  # (H, W)


def _proc(pid: int, field: str) -> float:
    """CPU seconds (``cpu``) or peak RSS in bytes (``hwm``) of one process from /proc."""
    try:
        if field == "cpu":
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0.0


class Windows(torch.utils.data.Dataset):
    """Random ``WINDOW``-frame windows (one clip, never crossing it) of a frame store, optionally
    cropped at a random position: the reading a training set does, without its augmentation."""

    def __init__(self, root: Path, length: int, crop: tuple[int, int] | None) -> None:
        self.store, self.length, self.crop = open_store(root), length, crop
        self.frames = {clip: self.store.frames(clip) for clip in self.store.clips()}

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> torch.Tensor:
        rng = np.random.default_rng(i)
        clip = list(self.frames)[rng.integers(len(self.frames))]
        refs = self.frames[clip]
        start = int(rng.integers(len(refs) - WINDOW + 1))
        frames = np.stack([refs[start + k].read() for k in range(WINDOW)])
        if self.crop is not None:
            h, w = self.crop
            top = int(rng.integers(frames.shape[1] - h + 1))
            left = int(rng.integers(frames.shape[2] - w + 1))
            frames = frames[:, top:top + h, left:left + w]
        return torch.from_numpy(np.ascontiguousarray(frames))


def loader_row(root: Path, height: int, crop: bool, iters: int, workers: int) -> dict:
    batch = BATCH[height]
    dataset = Windows(root, (iters + 2) * batch, CROP if crop and height > CROP[0] else None)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, num_workers=workers,
                                         multiprocessing_context="fork", timeout=300)
    times, pixels = [], 0
    it = iter(loader)
    pids = [w.pid for w in getattr(it, "_workers", [])]
    for _ in range(2):  # workers started and warm
        next(it)
    cpu0, wall0 = sum(_proc(p, "cpu") for p in pids), time.perf_counter()
    for _ in range(iters):
        t = time.perf_counter()
        x = next(it)
        times.append(time.perf_counter() - t)
        pixels += x.shape[0] * x.shape[1] * x.shape[2] * x.shape[3]
    wall = time.perf_counter() - wall0
    cpu = (sum(_proc(p, "cpu") for p in pids) - cpu0) / wall
    rss = sum(_proc(p, "hwm") for p in pids)
    del it
    times.sort()
    return {"median_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * times[min(len(times) - 1, int(0.95 * len(times)))],
            "pixels_per_s": pixels / sum(times), "frames_per_s": pixels / sum(times)
            / (x.shape[2] * x.shape[3]), "cpu_cores": cpu, "workers_peak_rss_mib": rss / 2**20}


def window_latency(root: Path, repeats: int = 15) -> float:
    """Median ms to read a random 7-frame window in this process (decoders kept open)."""
    store = open_store(root)
    refs = store.frames(store.clips()[0])
    rng, times = np.random.default_rng(0), []
    for _ in range(repeats):
        start = int(rng.integers(len(refs) - 7 + 1))
        t = time.perf_counter()
        for k in range(7):
            refs[start + k].read()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root.rglob("*") if root.is_dir() else [root])
               if p.is_file())


def build_sources(video: Path, work: Path) -> tuple[dict[tuple[str, int], Path], int]:
    """Every loader's copy of the same frames at 540p and 720p, and the frame count."""
    frames720 = list(VideoReader(video))
    fps = VideoReader(video).fps or 25
    sources = {}
    for height in (540, 720):
        frames = frames720 if height == frames720[0].shape[0] else [
            cv2.resize(f, (round(f.shape[1] * height / f.shape[0] / 2) * 2, height),
                       interpolation=cv2.INTER_AREA) for f in frames720]
        png = work / f"png{height}" / "bbb"
        for i, frame in enumerate(frames):
            write_image(png / f"{i:08d}.png", frame)
        sources["PNG folders", height] = png.parent
        for name, gop in (("mp4, GOP 4", 4), ("mp4, shipped GOP", None)):
            path = work / f"mp4{height}_{gop}" / "bbb.mp4"
            if gop is None and height == frames720[0].shape[0]:
                path = video  # the file as it ships
            else:
                with VideoWriter(path, fps, crf=18, keyframe_interval=gop) as writer:
                    for frame in frames:
                        writer.write(frame)
            sources[name, height] = path
        sources["LMDB (PNG)", height] = work / f"png{height}.lmdb"
        create_lmdb(png.parent, sources["LMDB (PNG)", height], progress=False)
        sources["LMDB (raw)", height] = work / f"raw{height}.lmdb"
        create_tecogan_lmdb(png.parent, sources["LMDB (raw)", height])
    return sources, len(frames720)


def plot(rows: list[dict], out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [f"{r['loader']}\n{r['height']}p{' crop' if r['crop'] else ''}" for r in rows]
    ax.barh(range(len(rows)), [r["pixels_per_s"] / 1e6 for r in rows])
    ax.set_yticks(range(len(rows)), labels, fontsize=6)
    ax.set_xscale("log")
    ax.set_xlabel("megapixels/s delivered to training (log)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--video", type=Path,
                        default=ROOT.parent / "shared/data/clips/big_buck_bunny_720p_1mb.mp4")
    parser.add_argument("--iters", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_io")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VSR_CACHE"] = str(Path(tmp) / "cache")
        sources, frames = build_sources(args.video, Path(tmp))
        for (name, height), root in sources.items():
            for crop in ((False, True) if height > CROP[0] else (False,)):
                row = {"loader": name, "height": height, "crop": crop,
                       **loader_row(root, height, crop, args.iters, args.workers),
                       "disk_bytes_per_frame": disk_bytes(root) / frames,
                       "window7_ms": window_latency(root)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_io.json").write_text(json.dumps(rows, indent=1))
    lines = ["| loader | input | batch | median ms | p95 ms | Mpixel/s | × PNG | CPU cores | "
             "workers' peak RSS MiB | disk kB/frame | 7-frame window ms |", "|" + "---|" * 11]
    for r in rows:
        ref = next(p for p in rows if p["loader"] == "PNG folders" and p["height"] == r["height"]
                   and p["crop"] == r["crop"])
        lines.append(
            f"| {r['loader']} | {r['height']}p{' crop 540p' if r['crop'] else ''} | "
            f"{BATCH[r['height']]} | {r['median_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{r['pixels_per_s'] / 1e6:.1f} | {r['pixels_per_s'] / ref['pixels_per_s']:.2f} | "
            f"{r['cpu_cores']:.2f} | {r['workers_peak_rss_mib']:.0f} | "
            f"{r['disk_bytes_per_frame'] / 1e3:.1f} | {r['window7_ms']:.0f} |")
    (args.out / "bench_io.md").write_text("\n".join(lines) + "\n")
    plot(rows, args.out / "bench_io.png")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
