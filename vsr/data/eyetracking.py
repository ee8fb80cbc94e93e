"""Test sets that pair frames with a gaze track, for foveated super-resolution (FOCAS).

* ``EyeTrackingHD``: the IRCCyN/IVC HD_UHD_Eyetracking_Videos layout (MODELS.md §2.5) —
  ``root/Videos/HD/<video>.bgr`` raw videos and ``root/Gaze_Data/HD/observer{N}_<video>.csv``
  — one clip per (video, observer) that has a gaze file.
* ``GazeVideoTest``: any video vsr reads (video file or frame folder) with gaze from a simple
  CSV, a fixed point or the frame centre.

Clips are ``TestClip`` objects with an extra ``gaze`` (a ``GazeTrack`` in HR pixels), so they
stream one frame at a time like every other test set. LR is made per frame by the degradation;
the default ``BD_DUF`` without HR padding is what FOCAS tests with. FOCAS also feeds the first LR
frame twice (T+1 inputs for T frames); that belongs to the inference loop, not the data.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from vsr.data.degradation_spec import Degradation, DegradationSpec, make_degradation
from vsr.data.gaze import GazeSpec, GazeTrack
from vsr.data.storage import DataPathLike, DiskFrameStore, FrameStore
from vsr.data.video_folder import TestClip
from vsr.io.frames import FolderFrameSource, open_frame_source
from vsr.io.image import FrameReadError
from vsr.io.video import VideoReader
from vsr.registry import DATASETS

PathLike = str | os.PathLike
Size = tuple[int, int]
_OBSERVER_FILE = re.compile(r"^observer(\d+)_(.+)\.csv$")


class RawVideoStore(FrameStore):
    """A folder of raw videos: interleaved 8-bit BGR frames of one size, no header.

    Clip = file name without ``.bgr``; frame name = its zero-padded index. Frames are read with
    one seek each, so a 300-frame 1080p video (1.9 GB) is never held in memory.
    """

    def __init__(self, root: DataPathLike, frame_size: Size = (1080, 1920)) -> None:
        self.root = Path(root)
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.frame_bytes = self.frame_size[0] * self.frame_size[1] * 3

    def path(self, clip: str) -> Path:
        return self.root / f"{clip}.bgr"

    def clips(self) -> list[str]:
        if not self.root.is_dir():
            raise FrameReadError(f"video folder not found: {self.root}")
        clips = sorted(p.stem for p in self.root.glob("*.bgr") if p.is_file())
        if not clips:
            raise FrameReadError(f"no .bgr videos in {self.root}")
        return clips

    def has_clip(self, clip: str) -> bool:
        return self.path(clip).is_file()

    def num_frames(self, clip: str) -> int:
        """Frame count from the file size, which must be a whole number of frames."""
        path = self.path(clip)
        if not path.is_file():
            raise FrameReadError(f"video file not found: {path}")
        size = path.stat().st_size
        count, rest = divmod(size, self.frame_bytes)
        if rest or not count:
            h, w = self.frame_size
            raise FrameReadError(
                f"{path} is {size} bytes, not a whole number of {w}x{h} BGR frames "
                f"({self.frame_bytes} bytes each); is the frame size right?"
            )
        return count

    def frame_names(self, clip: str) -> list[str]:
        count = self.num_frames(clip)
        width = len(str(count - 1))
        return [f"{i:0{width}d}" for i in range(count)]

    def read(self, clip: str, name: str) -> np.ndarray:
        path = self.path(clip)
        try:
            data = np.fromfile(
                path, np.uint8, self.frame_bytes, offset=int(name) * self.frame_bytes
            )
        except OSError as exc:
            raise FrameReadError(f"cannot read {self.locate(clip, name)}: {exc}") from exc
        if data.size != self.frame_bytes:
            raise FrameReadError(f"{self.locate(clip, name)} is cut short ({data.size} bytes)")
        return np.ascontiguousarray(data.reshape(*self.frame_size, 3)[..., ::-1])

    def locate(self, clip: str, name: str | None = None) -> str:
        where = str(self.path(clip))
        return where if name is None else f"{where}[frame {int(name)}]"

    def __repr__(self) -> str:
        return f"RawVideoStore({str(self.root)!r}, frame_size={self.frame_size})"


class VideoFileStore(FrameStore):
    """One video file as a store of one clip (``""``), frames named by index.

    Decoding is sequential, so the store keeps its decoder between reads: reading frames in
    order (as test clips do) decodes each frame once; going back restarts from the first frame.
    """

    def __init__(self, video: PathLike | VideoReader) -> None:
        self.reader = video if isinstance(video, VideoReader) else VideoReader(video)
        self._frames: Iterator[np.ndarray] | None = None
        self._next = 0
        self._last: tuple[int, np.ndarray] | None = None

    def clips(self) -> list[str]:
        return [""]

    def has_clip(self, clip: str) -> bool:
        return clip == ""

    def frame_names(self, clip: str) -> list[str]:
        count = self.reader.frame_count
        if count is None:  # the header does not say: count by decoding once
            count = sum(1 for _ in self.reader)
        width = len(str(count - 1))
        return [f"{i:0{width}d}" for i in range(count)]

    def read(self, clip: str, name: str) -> np.ndarray:
        index = int(name)
        if self._last is not None and self._last[0] == index:
            return self._last[1]
        if self._frames is None or index < self._next:
            self._frames, self._next = iter(self.reader), 0
        while self._next <= index:
            frame = next(self._frames, None)
            if frame is None:
                self._frames = None
                raise FrameReadError(f"{self.locate(clip, name)} not found: the video ends first")
            self._next += 1
        self._last = (index, frame)
        return frame

    def locate(self, clip: str, name: str | None = None) -> str:
        where = str(self.reader.path)
        return where if name is None else f"{where}[frame {int(name)}]"

    def __getstate__(self) -> dict:
        """Pickles without the live decoder (a generator), which the copy reopens on demand."""
        return {**self.__dict__, "_frames": None, "_next": 0, "_last": None}


@DATASETS.register()
class EyeTrackingHD:
    """HD_UHD_Eyetracking_Videos (HD part): one clip per (video, observer) with a gaze file.

    Clip names are ``<video>/observer<N>``; clips of a video share its frames (read again per
    clip, one at a time). ``videos`` (names with or without ``.bgr``) and ``observers``
    (numbers) restrict the selection; ``max_frames`` keeps the first frames of each video, with
    gaze derived over the whole video first (so the last kept frame gets its own samples).
    ``frame_size`` (H, W) and ``fps`` describe the raw videos (1080p at 25 fps in the release).
    """

    def __init__(
        self,
        root: DataPathLike,
        degradation: DegradationSpec = "BD_DUF",
        scale: int = 4,
        videos: Sequence[str] | None = None,
        observers: Sequence[int] | None = None,
        max_frames: int | None = None,
        frame_size: Size = (1080, 1920),
        fps: float = 25,
    ) -> None:
        root = Path(root)
        self.store = RawVideoStore(root / "Videos" / "HD", frame_size)
        self.gaze_dir = root / "Gaze_Data" / "HD"
        if not self.gaze_dir.is_dir():
            raise FrameReadError(f"gaze folder not found: {self.gaze_dir}")
        if frame_size[0] % scale or frame_size[1] % scale:
            raise ValueError(f"frame size {frame_size} (H, W) is not a multiple of scale {scale}")
        self.scale = scale
        self.fps = fps
        self.max_frames = max_frames
        self.degradation: Degradation = make_degradation(degradation, scale=scale)
        available = self.store.clips()
        if videos is None:
            self.videos = available
        else:
            self.videos = [v.removesuffix(".bgr") for v in videos]
            for video in self.videos:
                if not self.store.has_clip(video):
                    raise FrameReadError(f"video file not found: {self.store.path(video)}")
        by_video: dict[str, list[int]] = {v: [] for v in self.videos}
        for path in self.gaze_dir.glob("observer*_*.csv"):
            match = _OBSERVER_FILE.match(path.name)
            if match and match.group(2) in by_video:
                by_video[match.group(2)].append(int(match.group(1)))
        wanted = None if observers is None else {int(n) for n in observers}
        self.pairs = [
            (video, n)
            for video in self.videos
            for n in sorted(by_video[video])
            if wanted is None or n in wanted
        ]
        if not self.pairs:
            chosen = "any observer" if wanted is None else f"observers {sorted(wanted)}"
            raise FrameReadError(
                f"no gaze file observer<N>_<video>.csv in {self.gaze_dir} for {chosen} of the "
                f"videos {self.videos}"
            )

    def gaze_path(self, video: str, observer: int) -> Path:
        return self.gaze_dir / f"observer{observer}_{video}.csv"

    def clips(self) -> list[TestClip]:
        """Clips in (video, observer) order; parses every gaze file (so a bad one fails here),
        reads no frame."""
        result = []
        for video, observer in self.pairs:
            frames = self.store.frames(video)
            gaze = GazeTrack.from_ivc_csv(
                self.gaze_path(video, observer), len(frames), self.store.frame_size, self.fps
            )
            if self.max_frames is not None:
                frames = frames[: self.max_frames]
                gaze = GazeTrack(gaze.points[: self.max_frames], gaze.frame_size, gaze.report)
            result.append(
                TestClip(
                    f"{video}/observer{observer}",
                    self.scale,
                    None,
                    frames,
                    self.degradation,
                    gt_size=self.store.frame_size,
                    fps=self.fps,
                    conditions={"gaze": gaze},
                )
            )
        return result


@DATASETS.register()
class GazeVideoTest:
    """One video (file or frame folder) with a gaze track, as a one-clip test set.

    ``gaze``: None for the frame centre, ``[h, w]`` for a fixed point, a simple ``frame,x,y``
    CSV path (see ``GazeTrack.from_simple_csv``), or a ``GazeTrack``. Gaze is in HR pixels;
    ``gaze_size`` (H, W) says the CSV was recorded for another resolution, and it is rescaled.

    The frames are the GT and LR is made by ``degradation`` (default ``BD_DUF``, as FOCAS), or
    with ``lr_input`` the frames are the LR input, there is no GT, and HR = LR × ``scale``.
    ``fps`` fills in a frame folder's missing rate.
    """

    def __init__(
        self,
        video: DataPathLike,
        gaze: GazeSpec = None,
        degradation: DegradationSpec | None = None,
        scale: int = 4,
        lr_input: bool = False,
        gaze_size: Size | None = None,
        fps: float | None = None,
    ) -> None:
        if lr_input and degradation is not None:
            raise ValueError("lr_input frames are already LR; give no degradation")
        self.scale = scale
        self.lr_input = lr_input
        source = open_frame_source(video, fps)
        self.name = source.name
        self.fps = float(source.fps) if source.fps is not None else None
        if isinstance(source, FolderFrameSource):
            self.frames = DiskFrameStore(source.folder).frames("")
        else:
            self.frames = VideoFileStore(source.reader).frames("")  # the reader just opened
        self.frame_size = tuple(source.size)
        h, w = self.frame_size
        if not lr_input and (h % scale or w % scale):
            raise ValueError(
                f"{video} is {h}x{w} (HxW), not a multiple of scale {scale}; crop it first"
            )
        self.hr_size = (h * scale, w * scale) if lr_input else self.frame_size
        self.degradation = None
        if not lr_input:
            self.degradation = make_degradation(degradation or "BD_DUF", scale=scale)
        self.gaze = GazeTrack.from_spec(gaze, len(self.frames), self.hr_size, gaze_size)

    def clips(self) -> list[TestClip]:
        lr, gt = (self.frames, None) if self.lr_input else (None, self.frames)
        size = {"lr_size": self.frame_size} if self.lr_input else {"gt_size": self.frame_size}
        return [
            TestClip(
                self.name,
                self.scale,
                lr,
                gt,
                self.degradation,
                fps=self.fps,
                conditions={"gaze": self.gaze},
                **size,
            )
        ]
