"""Random access to the frames of a video file: what a training set needs to draw windows
straight from mp4 files (the NVVL job) instead of from folders of PNGs.

A file's frame index (presentation timestamps and which frames are keyframes) is built once by
demuxing, without decoding, and cached beside the user's other caches keyed by the file's path,
size and modification time. A window is read by seeking to the last keyframe at or before its
first frame and decoding forward; a reader keeps its decoder open and reads on from where it is
when the next request follows on (the next frame of a window, or the next window of a scan), so a
short-GOP file (``-g 4``) costs a few frames of decoding per random window. Readers are cached
per process, so a worker never uses its parent's decoder: the parent closes its decoders (and
frees their codec contexts) before a fork, and each forked DataLoader worker opens its own.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from vsr.io.image import atomic_write_bytes
from vsr.io.video import VideoReadError, decoded_rgb

INDEX_VERSION = 1


def cache_dir() -> Path:
    """``$VSR_CACHE/video_index``, else ``~/.cache/vsr/video_index``."""
    root = os.environ.get("VSR_CACHE") or Path.home() / ".cache" / "vsr"
    return Path(root) / "video_index"


@dataclass(frozen=True)
class FrameIndex:
    """Presentation timestamps of a video stream's frames in display order, and the position of
    the keyframe each frame's decoding starts from."""

    size: tuple[int, int]  # (H, W)
    pts: tuple[int, ...]
    keyframe_of: tuple[int, ...]  # frame i decodes from frame keyframe_of[i]

    def __len__(self) -> int:
        return len(self.pts)


def _scan(path: Path) -> FrameIndex:
    """Demux (not decode) every packet of the first video stream."""
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise VideoReadError(f"cannot open {path}: expected a video file FFmpeg can read "
                             f"({exc})") from exc
    with container:
        if not container.streams.video:
            raise VideoReadError(f"{path} has no video stream; expected a video file")
        stream = container.streams.video[0]
        packets = [(p.pts, p.is_keyframe) for p in container.demux(stream)
                   if p.size and p.pts is not None]
        size = (stream.height, stream.width)
    if not packets:
        raise VideoReadError(f"{path}: its video stream holds no frames")
    packets.sort()
    pts = [p for p, _ in packets]
    steps = {b - a for a, b in zip(pts, pts[1:])}
    if len(steps) > 1:
        raise VideoReadError(f"{path}: variable frame rate (frame durations {sorted(steps)[:4]} "
                             f"in stream time units); random access needs a constant rate — "
                             f"re-encode it (scripts/prepare_videos.py)")
    if not packets[0][1]:
        raise VideoReadError(f"{path}: its first frame is not a keyframe")
    keyframe_of, last_key = [], 0
    for i, (_, is_key) in enumerate(packets):
        last_key = i if is_key else last_key
        keyframe_of.append(last_key)
    return FrameIndex(size, tuple(pts), tuple(keyframe_of))


def frame_index(path: str | os.PathLike) -> FrameIndex:
    """The cached index of ``path`` (built and cached on first use)."""
    path = Path(path).resolve()
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise VideoReadError(f"video file not found: {path}") from None
    key = hashlib.sha256(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()
    cached = cache_dir() / f"{key[:32]}.json"
    if cached.is_file():
        try:
            data = json.loads(cached.read_text())
            if data.get("version") == INDEX_VERSION:
                return FrameIndex(tuple(data["size"]), tuple(data["pts"]),
                                  tuple(data["keyframe_of"]))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is rebuilt
    index = _scan(path)
    record = {"version": INDEX_VERSION, "path": str(path), "size": list(index.size),
              "pts": list(index.pts), "keyframe_of": list(index.keyframe_of)}
    try:
        atomic_write_bytes(cached, json.dumps(record).encode())
    except OSError:
        pass  # a read-only home: the index is just not kept
    return index


class VideoFrameReader:
    """Frames of one file by number, decoding forward from the nearest keyframe."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).resolve()
        self.index = frame_index(self.path)
        self._container = self._stream = None
        self._frames = None  # the decoder's frame iterator
        self._next = None  # frame number the iterator yields next

    def __len__(self) -> int:
        return len(self.index)

    def _restart_at(self, keyframe: int) -> None:
        if self._container is None:
            self._container = av.open(str(self.path), mode="r")
            self._stream = self._container.streams.video[0]
            # one decoding thread: workers are the parallelism, and FFmpeg's threads in a
            # parent hung forked workers (7-frame window at 720p: 275 ms vs 240 ms threaded)
            self._stream.thread_count = 1
        self._container.seek(self.index.pts[keyframe], stream=self._stream, backward=True,
                             any_frame=False)
        self._frames = self._container.decode(self._stream)
        self._next = None  # known once the first frame after the seek arrives

    def read(self, number: int) -> np.ndarray:
        """Frame ``number`` (0-based, display order) as uint8 RGB (H, W, 3)."""
        if not 0 <= number < len(self.index):
            raise VideoReadError(f"{self.path}: no frame {number} (it has {len(self.index)})")
        key = self.index.keyframe_of[number]
        if self._next is None or not key <= self._next <= number:
            self._restart_at(key)
        target = self.index.pts[number]
        try:
            for frame in self._frames:
                if frame.pts is None or frame.pts < target:
                    continue
                if frame.pts != target:
                    break
                self._next = number + 1
                return decoded_rgb(frame)
        except av.FFmpegError as exc:
            self.close()
            raise VideoReadError(f"cannot decode {self.path} at frame {number}: {exc}") from exc
        self.close()
        raise VideoReadError(f"cannot decode {self.path} at frame {number}: the file ends or is "
                             f"damaged before it (its index lists {len(self.index)} frames)")

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        # the stream too: freeing its codec context joins the decoder's threads, which a forked
        # child does not have (it hung there when a worker replaced its parent's reader)
        self._container = self._stream = self._frames = self._next = None


_READERS: dict[str, tuple[int, VideoFrameReader]] = {}


def reader_for(path: str | os.PathLike) -> VideoFrameReader:
    """This process's reader of ``path`` (a forked worker opens its own)."""
    key = str(Path(path).resolve())
    cached = _READERS.get(key)
    if cached is None or cached[0] != os.getpid():
        _READERS[key] = cached = (os.getpid(), VideoFrameReader(key))
    return cached[1]


def _close_readers_before_fork() -> None:
    """FFmpeg's decoder threads do not survive a fork (a child inheriting their locks can hang):
    the parent closes its decoders before DataLoader workers are forked and reopens on demand."""
    for _, reader in _READERS.values():
        reader.close()


os.register_at_fork(before=_close_readers_before_fork)
