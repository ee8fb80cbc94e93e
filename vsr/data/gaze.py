"""Per-frame gaze points for foveated super-resolution, from eye-tracking files or fixed.

A ``GazeTrack`` holds one (h, w) point per frame in HR pixel coordinates (row, column), the form
FOCAS consumes. Two file formats are read:

* the IRCCyN/IVC HD_UHD_Eyetracking_Videos observer CSV (MODELS.md §2.5), derived per frame
  exactly as FOCAS does — see :meth:`GazeTrack.from_ivc_csv`;
* a simple CSV for any video, documented in :meth:`GazeTrack.from_simple_csv`.

Rows that cannot be used (NaN, out of the frame) are skipped or clamped and counted in
``track.report``; rows that cannot be parsed raise one ``GazeFormatError`` naming file and line.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from vsr.errors import VSRError, VSRWarning

PathLike = str | os.PathLike
Size = tuple[int, int]
SIMPLE_HEADER = ("frame", "x", "y")


class GazeFormatError(VSRError, ValueError):
    """A gaze file row that cannot be parsed; the message names the file and line."""


@dataclass(frozen=True)
class GazeReport:
    """What happened to a gaze file's samples while deriving the per-frame track.

    ``samples``: usable samples (IVC: left/right pairs; simple: rows); ``nan_skipped``: samples
    dropped for a NaN coordinate (blinks, lost tracking); ``clamped``: usable samples moved onto
    the frame border; ``outside_clip``: samples whose time or frame index lies outside the clip
    (IVC: negative timestamps skipped, late ones folded into the last frame as FOCAS does;
    simple: frame index out of range, skipped); ``unpaired``: an IVC file's trailing odd row;
    ``filled``: frames without a sample (given the centre, or the previous gaze).
    """

    source: str
    samples: int = 0
    nan_skipped: int = 0
    clamped: int = 0
    outside_clip: int = 0
    unpaired: int = 0
    filled: int = 0

    @property
    def adjusted(self) -> bool:
        """Whether any sample was dropped, moved or made up."""
        return any((self.nan_skipped, self.clamped, self.outside_clip, self.unpaired,
                    self.filled))

    def warn_if_adjusted(self, frame_size: Size) -> None:
        """One warning per track that did not come through as written."""
        if self.adjusted:
            warnings.warn(f"gaze {self}: check that the file covers every frame and that its "
                          f"points lie in the {frame_size[0]}x{frame_size[1]} (HxW) frame",
                          VSRWarning, stacklevel=3)

    def __str__(self) -> str:
        return (
            f"{self.source}: {self.samples} samples, {self.nan_skipped} NaN skipped, "
            f"{self.clamped} clamped, {self.outside_clip} outside the clip, "
            f"{self.unpaired} unpaired, {self.filled} frames filled"
        )


@dataclass(frozen=True, eq=False)
class GazeTrack:
    """One gaze point (h, w) per frame, integer HR pixels; ``points`` is (num_frames, 2) int64.

    ``frame_size`` (H, W) is the resolution the points refer to (None for a bare fixed point).
    """

    points: np.ndarray
    frame_size: Size | None = None
    report: GazeReport | None = None

    def __post_init__(self) -> None:
        points = np.asarray(self.points, dtype=np.int64)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"gaze points must be (num_frames, 2), got shape {points.shape}")
        points.setflags(write=False)
        object.__setattr__(self, "points", points)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int) -> tuple[int, int]:
        h, w = self.points[index]
        return int(h), int(w)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"GazeTrack(num_frames={len(self)}, frame_size={self.frame_size})"

    # ------------------------------------------------------------------ constructors

    @classmethod
    def fixed(cls, h: int, w: int, num_frames: int, frame_size: Size | None = None) -> GazeTrack:
        """The same point on every frame; with ``frame_size`` the point must lie inside it
        (a hand-given point off the frame is a mistake, not noise to clamp)."""
        if frame_size is not None and not (0 <= h < frame_size[0] and 0 <= w < frame_size[1]):
            raise ValueError(f"fixed gaze ({h}, {w}) lies outside the {frame_size} (H, W) frame")
        return cls(np.tile([[int(h), int(w)]], (num_frames, 1)), frame_size)

    @classmethod
    def centre(cls, num_frames: int, frame_size: Size) -> GazeTrack:
        """The frame centre (H // 2, W // 2) on every frame: (540, 960) at 1080p, as FOCAS
        assumes when tracking is lost."""
        return cls.fixed(frame_size[0] // 2, frame_size[1] // 2, num_frames, frame_size)

    @classmethod
    def from_ivc_csv(
        cls,
        path: PathLike,
        num_frames: int,
        frame_size: Size = (1080, 1920),
        fps: float = 25,
    ) -> GazeTrack:
        """Gaze from an HD_UHD_Eyetracking_Videos observer CSV, derived as FOCAS derives it.

        Rows (no header) come in consecutive pairs, left eye then right eye; columns are
        ``label, timestamp_ms, x, y`` (x horizontal, y vertical, in video pixels; further
        columns are ignored). A pair with a NaN coordinate is skipped. The pair's frame is
        ``int(t) * fps // 1000`` (``int(t) // 40`` at 25 fps); samples past the last frame go to
        the last frame. Gaze = ``int(left + right) // 2`` per axis, clamped to the frame. The
        earliest sample (in file order) of each frame wins; frames without one get the centre.

        Deviations from FOCAS, all for rows it would mishandle: blank lines are ignored (FOCAS
        lets them shift the pairing), negative timestamps are skipped (FOCAS would index from
        the end), the clamp is to the last pixel H−1, W−1 (FOCAS allows H, W), and a short or
        non-numeric row is an error (FOCAS skips short rows and crashes on non-numeric ones).
        """
        path = Path(path)
        rate = Fraction(fps)
        rows = [(lineno, row) for lineno, row in _read_rows(path) if row]
        counts = Counter(unpaired=len(rows) % 2)
        points = np.full((num_frames, 2), -1, dtype=np.int64)
        for (left_line, left), (right_line, right) in zip(rows[0::2], rows[1::2]):
            t, xl, yl = _floats(path, left_line, left, 4, "label,timestamp_ms,x,y")
            _, xr, yr = _floats(path, right_line, right, 4, "label,timestamp_ms,x,y")
            if any(math.isnan(v) for v in (t, xl, yl, xr, yr)):
                counts["nan_skipped"] += 1
                continue
            frame = math.floor(int(t) * rate / 1000)
            if not 0 <= frame < num_frames:
                counts["outside_clip"] += 1
                if frame < 0:
                    continue
                frame = num_frames - 1
            h, w, moved = _clamp(int(yl + yr) // 2, int(xl + xr) // 2, frame_size)
            counts["samples"] += 1
            counts["clamped"] += moved
            if points[frame, 0] < 0:
                points[frame] = (h, w)
        missing = points[:, 0] < 0
        points[missing] = (frame_size[0] // 2, frame_size[1] // 2)
        counts["filled"] = int(missing.sum())
        report = GazeReport(str(path), **counts)
        report.warn_if_adjusted(frame_size)
        return cls(points, frame_size, report)

    @classmethod
    def from_simple_csv(cls, path: PathLike, num_frames: int, frame_size: Size) -> GazeTrack:
        """Gaze from a simple CSV: a header ``frame,x,y`` then one row per frame.

        ``frame`` is the 0-based frame index; ``x`` (horizontal) and ``y`` (vertical) are pixel
        coordinates in a ``frame_size`` frame, rounded to the nearest pixel. Rows may come in
        any order and need not cover every frame: a frame without a row holds the previous
        frame's gaze (the centre before the first row). Rows with NaN are skipped, points off
        the frame clamped, frame indices outside the clip skipped — each counted in ``report``.
        A frame listed twice is an error.
        """
        path = Path(path)
        rows = [(lineno, row) for lineno, row in _read_rows(path) if row]
        if not rows or tuple(c.strip().lower() for c in rows[0][1]) != SIMPLE_HEADER:
            line = rows[0][0] if rows else 1
            raise GazeFormatError(f"{path}:{line}: expected the header 'frame,x,y'")
        counts: Counter[str] = Counter()
        points = np.full((num_frames, 2), -1, dtype=np.int64)
        for lineno, row in rows[1:]:
            frame_value, x, y = _floats(path, lineno, row, 3, "frame,x,y", exact=True)
            if not frame_value.is_integer():
                raise GazeFormatError(
                    f"{path}:{lineno}: frame index must be an integer, got {row[0]!r}"
                )
            frame = int(frame_value)
            if math.isnan(x) or math.isnan(y):
                counts["nan_skipped"] += 1
                continue
            if not 0 <= frame < num_frames:
                counts["outside_clip"] += 1
                continue
            if points[frame, 0] >= 0:
                raise GazeFormatError(f"{path}:{lineno}: frame {frame} is listed twice")
            h, w, moved = _clamp(math.floor(y + 0.5), math.floor(x + 0.5), frame_size)
            counts["samples"] += 1
            counts["clamped"] += moved
            points[frame] = (h, w)
        current = (frame_size[0] // 2, frame_size[1] // 2)
        for i in range(num_frames):
            if points[i, 0] < 0:
                points[i] = current
                counts["filled"] += 1
            current = tuple(points[i])
        report = GazeReport(str(path), **counts)
        report.warn_if_adjusted(frame_size)
        return cls(points, frame_size, report)

    @classmethod
    def from_spec(cls, spec: GazeSpec, num_frames: int, frame_size: Size,
                  spec_size: Size | None = None) -> GazeTrack:
        """A gaze track for ``num_frames`` frames of ``frame_size`` from what a user gives:
        nothing (the centre), a track, a simple CSV path or a fixed ``[h, w]``; coordinates
        are in ``spec_size`` frames (default ``frame_size``) and scaled to ``frame_size``."""
        size = tuple(spec_size or frame_size)
        if isinstance(spec, GazeTrack):
            track = spec
        elif spec is None:
            track = cls.centre(num_frames, size)
        elif isinstance(spec, (str, os.PathLike)):
            track = cls.from_simple_csv(spec, num_frames, size)
        else:
            if len(spec) != 2:
                raise ValueError(f"a fixed gaze is [h, w], got {spec!r}")
            track = cls.fixed(int(spec[0]), int(spec[1]), num_frames, size)
        if track.frame_size is not None and tuple(track.frame_size) != tuple(frame_size):
            track = track.scaled_to(frame_size)
        return track

    # ------------------------------------------------------------------ conversions

    def scaled_to(self, frame_size: Size) -> GazeTrack:
        """The same gaze in a frame of another resolution (e.g. gaze recorded on a 4K display
        for a 1080p video): pixel centres are mapped, so (0, 0) and (H−1, W−1) map onto the
        corners of the new frame."""
        if self.frame_size is None:
            raise ValueError("scaled_to needs the track's frame_size to know what it scales from")
        scale = np.array(frame_size, dtype=np.float64) / np.array(self.frame_size)
        scaled = np.floor((self.points + 0.5) * scale).astype(np.int64)
        scaled = np.minimum(scaled, np.array(frame_size) - 1)
        return GazeTrack(scaled, tuple(frame_size), self.report)


GazeSpec = GazeTrack | PathLike | Sequence[int] | None
"""What a user may give as gaze: see :meth:`GazeTrack.from_spec`."""


def _read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every CSV row; a missing file is one clear error."""
    if not path.is_file():
        raise FileNotFoundError(f"gaze file not found: {path}")
    with path.open(newline="") as f:
        reader = csv.reader(f)
        for row in reader:
            yield reader.line_num, [c.strip() for c in row] if any(c.strip() for c in row) else []


def _floats(
    path: Path, lineno: int, row: list[str], columns: int, layout: str, exact: bool = False
) -> tuple[float, float, float]:
    """Columns 1..3 (IVC) or 0..2 (simple) of a row as floats, or an error naming the line."""
    if len(row) < columns or (exact and len(row) != columns):
        need = f"{columns}" if exact else f"at least {columns}"
        raise GazeFormatError(
            f"{path}:{lineno}: expected {need} columns ({layout}), got {len(row)}: {row!r}"
        )
    fields = row[-3:] if exact else row[1:4]
    try:
        values = tuple(float(c) for c in fields)
    except ValueError:
        values = (math.inf,)
    if any(math.isinf(v) for v in values):
        raise GazeFormatError(f"{path}:{lineno}: non-numeric value in {row!r} (expected {layout})")
    return values


def _clamp(h: int, w: int, frame_size: Size) -> tuple[int, int, int]:
    """The point moved onto the frame, and 1 if it had to move."""
    ch = min(max(h, 0), frame_size[0] - 1)
    cw = min(max(w, 0), frame_size[1] - 1)
    return ch, cw, int((ch, cw) != (h, w))
