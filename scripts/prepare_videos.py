"""Turn long videos into a training set of short-GOP scene files, as NVVL's example prepares its
data, with PyAV only (no ffmpeg binary):

    python scripts/prepare_videos.py VIDEO [VIDEO ...] -o OUT [--cuts 5.2 12.0 | --detect-cuts]
        [--heights 540 720 1080] [--gop 4] [--crf 18] [--min-scene-frames 8] [--png]

Each input is split into scenes at the given timestamps (seconds) or at detected cuts (a jump in
the mean absolute difference of small grey thumbnails), every scene is scaled to each height
(area filter, width by the aspect ratio, even) and encoded H.264 with a keyframe every ``--gop``
frames at CRF ``--crf`` into ``OUT/<height>p/<stem>_s<k>.mp4``; ``OUT/<height>p/train.txt`` lists
the files of this run for a video-file training set. ``--png`` also writes the frames as PNG folders
``OUT/<height>p_png/<stem>_s<k>/`` for the frame-folder baseline loader. Windows never cross a
scene because each scene is its own file. Existing outputs are refused (exit 2) unless
``--overwrite``; every file is written to a temp name and renamed when complete.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vsr.errors import VSRError  # noqa: E402
from vsr.io.image import atomic_write_bytes, write_image  # noqa: E402
from vsr.io.video import VideoReader, VideoWriter  # noqa: E402

THUMB = (64, 36)  # (W, H) of the thumbnails cut detection compares


def _thumb(frame: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, THUMB, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def frame_differences(frames: Iterable[np.ndarray]) -> list[float]:
    """Mean |difference| in [0, 1] of consecutive grey thumbnails (entry i compares frames i and
    i+1); streams, so a long video is never held in memory."""
    diffs, previous = [], None
    for frame in frames:
        thumb = _thumb(frame)
        if previous is not None:
            diffs.append(float(np.abs(thumb - previous).mean()))
        previous = thumb
    return diffs


def detect_cuts(diffs: list[float], threshold: float, min_scene: int) -> list[int]:
    """First frames of new scenes: where the thumbnail difference exceeds ``threshold`` and the
    scene so far has at least ``min_scene`` frames."""
    cuts, start = [], 0
    for i, diff in enumerate(diffs):
        if diff > threshold and i + 1 - start >= min_scene:
            cuts.append(i + 1)
            start = i + 1
    return cuts


def cuts_at(seconds: list[float], fps: float, num_frames: int, path: Path) -> list[int]:
    """Frame numbers of timestamps, checked to lie inside the video and to increase."""
    frames = [round(t * fps) for t in seconds]
    for t, f in zip(seconds, frames):
        if not 0 < f < num_frames:
            raise VSRError(f"--cuts {t}: {path} has {num_frames} frames at {fps:g} fps "
                           f"({num_frames / fps:.2f} s); a cut must fall strictly inside it")
    if frames != sorted(set(frames)):
        raise VSRError(f"--cuts {seconds}: the timestamps must increase and fall on distinct "
                       f"frames of {path} (frames {frames})")
    return frames


def scenes(num_frames: int, cuts: list[int]) -> Iterator[tuple[int, int]]:
    """(first, end) frame ranges between the cuts."""
    bounds = [0, *cuts, num_frames]
    yield from zip(bounds, bounds[1:])


def scaled(frame: np.ndarray, height: int) -> np.ndarray:
    """Area-filtered to ``height`` rows (even), width by the aspect ratio (even)."""
    h, w = frame.shape[:2]
    if height == h:
        return frame
    width = max(2, round(w * height / h / 2) * 2)
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


def prepare(videos: list[Path], out: Path, heights: list[int], gop: int = 4, crf: int = 18,
            cuts: list[float] | None = None, detect: bool = False, threshold: float = 0.12,
            min_scene: int = 8, png: bool = False, overwrite: bool = False) -> list[Path]:
    """Write the scene files of every video at every height; returns the mp4s written. Two
    streaming passes per video (count and find cuts, then encode), so memory stays bounded."""
    written = []
    for path in videos:
        reader = VideoReader(path)
        fps = reader.fps or 25
        diffs = frame_differences(reader)
        num_frames = len(diffs) + 1
        if cuts:
            starts = cuts_at(cuts, float(fps), num_frames, path)
        else:
            starts = detect_cuts(diffs, threshold, min_scene) if detect else []
        ranges = list(scenes(num_frames, starts))
        targets = {(h, k): out / f"{h}p" / f"{path.stem}_s{k:03d}.mp4"
                   for h in heights for k in range(len(ranges))}
        for target in targets.values():
            if target.exists() and not overwrite:
                raise VSRError(f"{target} exists; pass --overwrite to replace it")
        frames = iter(reader)
        for k, (first, end) in enumerate(ranges):
            writers = {h: VideoWriter(targets[h, k], fps, crf=crf, keyframe_interval=gop)
                       for h in heights}
            try:
                for i in range(first, end):
                    frame = next(frames)
                    for h, writer in writers.items():
                        small = scaled(frame, h)
                        writer.write(small)
                        if png:
                            write_image(out / f"{h}p_png" / targets[h, k].stem
                                        / f"{i - first:08d}.png", small)
            except BaseException:
                for writer in writers.values():
                    writer.abort()
                raise
            for writer in writers.values():
                writer.close()
        written += targets.values()
    for h in heights:  # the list a video-file training set reads (names relative to it)
        names = sorted(t.name for t in written if t.parent.name == f"{h}p")
        atomic_write_bytes(out / f"{h}p" / "train.txt", ("\n".join(names) + "\n").encode())
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("videos", nargs="+", type=Path)
    parser.add_argument("-o", "--out", type=Path, required=True)
    split = parser.add_mutually_exclusive_group()
    split.add_argument("--cuts", type=float, nargs="+", metavar="SECONDS",
                       help="scene boundaries as timestamps (one list for every input)")
    split.add_argument("--detect-cuts", action="store_true",
                       help="split where consecutive frames differ by more than --threshold")
    parser.add_argument("--threshold", type=float, default=0.12,
                        help="mean |grey difference| in [0, 1] of 64x36 thumbnails that is a cut")
    parser.add_argument("--min-scene-frames", type=int, default=8)
    parser.add_argument("--heights", type=int, nargs="+", default=[540, 720, 1080])
    parser.add_argument("--gop", type=int, default=4, help="keyframe interval (NVVL: 4)")
    parser.add_argument("--crf", type=int, default=18, help="H.264 CRF (NVVL: 18)")
    parser.add_argument("--png", action="store_true", help="also write PNG frame folders")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    if any(h < 2 or h % 2 for h in args.heights):
        parser.error(f"--heights must be even numbers >= 2, got {args.heights}")
    try:
        written = prepare(args.videos, args.out, args.heights, args.gop, args.crf, args.cuts,
                          args.detect_cuts, args.threshold, args.min_scene_frames, args.png,
                          args.overwrite)
    except (VSRError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} scene files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
