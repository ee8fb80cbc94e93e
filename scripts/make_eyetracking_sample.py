"""Write a small eye-tracking dataset in exactly the HD_UHD_Eyetracking_Videos layout.

    python scripts/make_eyetracking_sample.py OUT [--source VIDEO] [--size 1920x1080]
        [--frames 24] [--videos 2] [--observers 5 6 7] [--interval-ms 4] [--seed 0]

writes::

    OUT/Videos/HD/BigBuckBunny1_s1920x1080p25n24v0.bgr      raw interleaved 8-bit BGR frames
    OUT/Gaze_Data/HD/observer5_BigBuckBunny1_s1920x1080p25n24v0.csv   one per (observer, video)

Videos are consecutive frames of real footage (default: the Big Buck Bunny clip in ../shared),
scaled to cover ``--size`` and centre-cropped; video k takes a different stretch of the source.
Gaze CSVs follow the IVC format that ``vsr.data.gaze.GazeTrack.from_ivc_csv`` reads: no
header, rows in pairs (left eye ``L``, then right eye ``R``), columns ``eye, timestamp_ms, x, y``
with x horizontal and y vertical in video pixels, one pair every ``--interval-ms``. The synthetic
observers fixate for 200-400 ms with small jitter, jump between fixations in 20-50 ms saccades,
keep a small fixed vergence offset between the eyes, and blink now and then (NaN pairs for
80-150 ms). Everything follows from ``--seed``; every file is written to a temporary name and
renamed, so an interrupted run leaves no half-written file.

The real dataset: the IRCCyN/IVC "HD_UHD_Eyetracking_Videos" database of the University of
Nantes (IVC lab, now LS2N), distributed from the IVC server as
``IRCCYN_IVC_HD_UHD_Eyetracking_Videos/{Videos,Gaze_Data}/HD/`` and as a ~44.6 GB tarball linked
from the FOCAS README. Only the HD part is used; point ``EyeTrackingHD(root=...)`` at the folder
that holds ``Videos/HD`` and ``Gaze_Data/HD``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vsr.io.frames import open_frame_source  # noqa: E402
from vsr.io.image import atomic_file, atomic_write_bytes  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "clips" / "big_buck_bunny_720p_1mb.mp4"
FPS = 25


def cover_resize(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale to cover (H, W) and crop the centre, keeping the aspect ratio of the content."""
    h, w = size
    sh, sw = frame.shape[:2]
    factor = max(h / sh, w / sw)
    rh, rw = max(h, round(sh * factor)), max(w, round(sw * factor))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(frame, (rw, rh), interpolation=interp)
    top, left = (rh - h) // 2, (rw - w) // 2
    return resized[top : top + h, left : left + w]


def gaze_samples(
    rng: np.random.Generator, duration_ms: float, size: tuple[int, int], interval_ms: float
) -> np.ndarray:
    """(N, 5) rows ``t, x_left, y_left, x_right, y_right`` of one observer; NaN while blinking."""
    h, w = size
    times = np.arange(rng.uniform(0, interval_ms), duration_ms, interval_ms)
    pos = np.empty((len(times), 2))
    blink = np.zeros(len(times), dtype=bool)
    centre = np.array([w / 2, h / 2])
    spread = np.array([0.22 * w, 0.22 * h])
    jitter = 0.0008 * w  # ~1.5 px at 1080p: tracker noise and microsaccades
    point = centre + rng.normal(0, 0.02 * w, 2)  # sessions start on a central fixation cross
    t = 0.0
    while t < duration_ms:
        dwell = rng.uniform(200, 400)
        fix = (times >= t) & (times < t + dwell)
        pos[fix] = point + rng.normal(0, jitter, (int(fix.sum()), 2))
        if rng.random() < 0.15:
            blink |= fix & (times >= t + dwell - rng.uniform(80, 150))
        t += dwell
        target = np.clip(rng.normal(centre, spread), 0, [w - 1, h - 1])
        sweep = rng.uniform(20, 50)
        sac = (times >= t) & (times < t + sweep)
        a = (times[sac] - t) / sweep
        pos[sac] = point + (a * a * (3 - 2 * a))[:, None] * (target - point)
        point = target
        t += sweep
    vergence = np.array([rng.normal(0, 0.003 * w), 0.0])
    left = pos - vergence / 2 + rng.normal(0, jitter / 2, pos.shape)
    right = pos + vergence / 2 + rng.normal(0, jitter / 2, pos.shape)
    rows = np.column_stack([times, left, right])
    rows[blink, 1:] = np.nan
    return rows


def ivc_csv(rows: np.ndarray) -> str:
    """IVC observer CSV text: a left-eye row then a right-eye row per sample."""

    def fmt(v: float) -> str:
        return "NaN" if np.isnan(v) else f"{v:.2f}"

    lines = []
    for t, xl, yl, xr, yr in rows:
        lines.append(f"L,{t:.1f},{fmt(xl)},{fmt(yl)}")
        lines.append(f"R,{t:.1f},{fmt(xr)},{fmt(yr)}")
    return "\n".join(lines) + "\n"


def make_sample(
    out: Path,
    source: Path = DEFAULT_SOURCE,
    size: tuple[int, int] = (1080, 1920),
    frames: int = 24,
    videos: int = 2,
    observers: tuple[int, ...] = (5, 6, 7),
    interval_ms: float = 4,
    seed: int = 0,
) -> list[Path]:
    """Write the dataset under ``out``; returns the files written (videos, then gaze CSVs)."""
    h, w = size
    src = open_frame_source(source)
    available = len(src)
    if available < frames:
        raise ValueError(f"{source} has {available} frames; need {frames} per video")
    starts = [k * (available - frames) // max(videos - 1, 1) for k in range(videos)]
    names = [f"BigBuckBunny{k + 1}_s{w}x{h}p{FPS}n{frames}v0" for k in range(videos)]
    video_paths = [out / "Videos" / "HD" / f"{name}.bgr" for name in names]
    with contextlib.ExitStack() as stack:
        handles = [stack.enter_context(atomic_file(p)) for p in video_paths]
        for index, frame in enumerate(src):
            targets = [h for s, h in zip(starts, handles) if s <= index < s + frames]
            if targets:  # resized once, however many videos share the frame
                bgr = cv2.cvtColor(cover_resize(frame, size), cv2.COLOR_RGB2BGR)
                data = np.ascontiguousarray(bgr).tobytes()
                for handle in targets:
                    handle.write(data)
            if index + 1 >= starts[-1] + frames:
                break
    written = list(video_paths)
    for k, name in enumerate(names):
        for observer in observers:
            rng = np.random.default_rng([seed, k, observer])
            rows = gaze_samples(rng, frames * 1000 / FPS, size, interval_ms)
            path = out / "Gaze_Data" / "HD" / f"observer{observer}_{name}.csv"
            atomic_write_bytes(path, ivc_csv(rows).encode())
            written.append(path)
    return written


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` (as in the video names) -> (H, W)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 1920x1080; got {text!r}") from None
    return h, w


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="dataset root (gets Videos/HD and Gaze_Data/HD)")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="video or frames")
    parser.add_argument("--size", type=parse_size, default=(1080, 1920), help="WxH")
    parser.add_argument("--frames", type=int, default=24, help="frames per video")
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--observers", type=int, nargs="+", default=[5, 6, 7])
    parser.add_argument("--interval-ms", type=float, default=4, help="gaze sampling interval")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    written = make_sample(
        args.out,
        args.source,
        args.size,
        args.frames,
        args.videos,
        tuple(args.observers),
        args.interval_ms,
        args.seed,
    )
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
