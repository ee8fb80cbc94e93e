"""Video files in and out through PyAV: streaming uint8 RGB decode, atomic H.264 encode with
the source's audio carried over."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import Interpolation

from vsr.io.image import FrameReadError, FrameWriteError
from vsr.io.sink import FrameSink
from vsr.io.tempfiles import temp_path

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v")

# Muxer names for the suffixes we write; the temp file's own suffix cannot be trusted to pick it.
_MUXERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi"}
WRITABLE_SUFFIXES = tuple(_MUXERS)
# The index goes before the frames so that a player can stream the file and a truncated copy
# still opens (the frames up to the cut decode).
_MUXER_OPTIONS = {"mp4": {"movflags": "+faststart"}, "mov": {"movflags": "+faststart"}}

_X26X_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                 "slower", "veryslow", "placebo")


@dataclass(frozen=True)
class _Encoder:
    """A video encoder we know how to drive: its quality scale and its speed presets."""

    quality: tuple[int, int]  # valid range of ``crf`` (x264/x265 CRF, mpeg4 qscale)
    default_quality: int
    presets: tuple[str, ...] = ()
    default_preset: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def options(self, crf: int, preset: str | None) -> dict[str, str]:
        if self.presets:
            return {"crf": str(crf), "preset": preset or "", **dict(self.extra)}
        # constant quantiser: FFmpeg's -q:v, global_quality in lambda units (FF_QP2LAMBDA = 118)
        return {"flags": "+qscale", "global_quality": str(crf * 118), **dict(self.extra)}


ENCODERS = {
    "libx264": _Encoder((0, 51), 18, _X26X_PRESETS, "medium"),
    "libx265": _Encoder((0, 51), 20, _X26X_PRESETS, "medium",
                        (("x265-params", "log-level=error"),)),
    "mpeg4": _Encoder((1, 31), 3),
}


def available_encoders() -> list[str]:
    """The encoders of :data:`ENCODERS` that this PyAV build's FFmpeg has."""
    return [name for name in ENCODERS if name in av.codecs_available]


def encoder_options(codec: str, crf: int | None = None, preset: str | None = None) -> dict:
    """FFmpeg options for ``codec`` at quality ``crf`` and speed ``preset`` (codec defaults
    where None), checked so that a bad value fails before any file is opened."""
    available = available_encoders()
    if codec not in available:
        known = "unknown codec" if codec not in ENCODERS else "codec not in this PyAV build"
        raise ValueError(f"{known} {codec!r}; this build can write: {', '.join(available)}")
    enc = ENCODERS[codec]
    crf = enc.default_quality if crf is None else crf
    low, high = enc.quality
    if not low <= crf <= high:
        raise ValueError(f"crf {crf} is out of range for {codec}: expected {low}..{high}")
    if preset is not None and not enc.presets:
        raise ValueError(f"{codec} takes no preset (got {preset!r}); only crf sets its quality")
    if preset is not None and preset not in enc.presets:
        raise ValueError(f"unknown preset {preset!r} for {codec}: expected one of "
                         f"{', '.join(enc.presets)}")
    return enc.options(crf, preset or enc.default_preset)
# Audio codecs every writable container takes as-is; anything else is re-encoded to AAC
# (Matroska takes any codec, so there everything is copied).
_COPYABLE_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"})

# swscale's fast YUV->RGB path truncates and mis-sites chroma (about -1 level on every pixel of
# coloured or graded content); accurate rounding with full-resolution chroma interpolation is
# unbiased and still ~10 ms per 720p frame. The RGB->YUV side only needs accurate rounding.
_TO_RGB = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT
_TO_YUV = Interpolation.BILINEAR | Interpolation.ACCURATE_RND
# Ordered layouts for channel counts whose source layout is unordered (AAC needs an order).
_DEFAULT_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 8: "7.1"}

_BT709 = 1  # AVCOL_SPC / AVCOL_PRI / AVCOL_TRC value for ITU-R BT.709
_UNSPECIFIED = 2
_BT601 = 5  # AVCOL_SPC_SMPTE170M
_MPEG_RANGE = 1


class VideoReadError(FrameReadError):
    """A video file is missing, not a video, or fails to decode."""


def _rate(fps: Fraction | float | str) -> Fraction:
    """Exact frame rate; floats like 29.97002997 snap back to the NTSC ratio they came from."""
    rate = Fraction(fps)
    if isinstance(fps, float):
        rate = rate.limit_denominator(10000)
    if rate <= 0:
        raise ValueError(f"frame rate must be positive, got {fps!r}")
    return rate


def _src_colorspace(frame: av.VideoFrame) -> int:
    """YUV matrix of a decoded frame; untagged HD is BT.709 as players assume, SD stays BT.601."""
    if frame.colorspace != _UNSPECIFIED:
        return frame.colorspace
    return _BT709 if frame.height > 576 else _BT601


def decoded_rgb(frame: av.VideoFrame) -> np.ndarray:
    """A decoded frame as uint8 RGB (H, W, 3), in the colour space and range it declares."""
    return frame.to_ndarray(
        format="rgb24",
        src_colorspace=_src_colorspace(frame),
        src_color_range=frame.color_range,
        interpolation=_TO_RGB,
    )


class VideoReader:
    """Metadata of a video file up front; frames decoded lazily, one at a time, on iteration.

    Each ``iter()`` reopens the file, so a reader can be walked more than once and holds no
    decoder state (or file handle) between walks.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        with self._open() as container:
            stream = container.streams.video[0]
            self.size: tuple[int, int] = (stream.height, stream.width)
            self.frame_count: int | None = stream.frames or None
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            self.fps: Fraction | None = Fraction(rate) if rate else None
            self.has_audio = bool(container.streams.audio)
            seconds = container.duration / av.time_base if container.duration else None
        # Containers without a frame count (Matroska) still give a duration to check against.
        self.expected_frames: int | None = self.frame_count or (
            round(seconds * self.fps) if seconds and self.fps else None
        )

    def _open(self) -> av.container.InputContainer:
        """Open the file and check it has a video stream, turning FFmpeg errors into one error."""
        if not self.path.is_file():
            raise VideoReadError(f"video file not found: {self.path}")
        try:
            container = av.open(str(self.path), mode="r")
        except (av.FFmpegError, UnicodeDecodeError) as exc:
            raise VideoReadError(
                f"cannot open {self.path}: expected a video file FFmpeg can read ({exc})"
            ) from exc
        if not container.streams.video:
            container.close()
            raise VideoReadError(f"{self.path} has no video stream; expected a video file")
        return container

    def __iter__(self) -> Iterator[np.ndarray]:
        """Yield uint8 RGB (H, W, 3) frames in display order."""
        with self._open() as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            index = 0
            broken: VideoReadError | None = None
            for packet in container.demux(stream):
                flush = packet.size == 0
                if broken is not None and not flush:
                    raise broken  # more data after the bad packet: corrupt, not truncated
                if packet.is_corrupt:  # e.g. cut short by the end of the file: not decoded
                    broken = VideoReadError(
                        f"cannot decode {self.path} at frame {index}: a damaged packet is "
                        f"followed by more data ({index} frames decoded before it)"
                    )
                    continue
                try:
                    frames = packet.decode()
                except av.FFmpegError as exc:
                    if broken is not None:
                        break
                    # Decoders buffer packets, so the broken one may lie a few frames on.
                    broken = VideoReadError(
                        f"cannot decode {self.path} at frame {index} "
                        f"({index} frames decoded before the error): {exc}"
                    )
                    broken.__cause__ = exc
                    continue
                for frame in frames:
                    yield self._rgb(frame, index)
                    index += 1
            if broken is not None and index == 0:
                raise broken
        if self.expected_frames is not None and index < self.expected_frames:
            # Not an error: a cut-off file's frames up to the cut are good and already in use.
            lists = "header lists" if self.frame_count else "duration implies"
            warnings.warn(
                f"{self.path} ended after {index} of the {self.expected_frames} frames its "
                f"{lists}; the file may be truncated or corrupt",
                RuntimeWarning,
                stacklevel=2,
            )

    def _rgb(self, frame: av.VideoFrame, index: int) -> np.ndarray:
        if (frame.height, frame.width) != self.size:
            raise VideoReadError(
                f"frame {index} of {self.path} is {frame.height}x{frame.width}; "
                f"expected {self.size[0]}x{self.size[1]} like the stream header"
            )
        return decoded_rgb(frame)

    def __repr__(self) -> str:
        return (
            f"VideoReader({str(self.path)!r}, size={self.size}, fps={self.fps}, "
            f"frame_count={self.frame_count}, has_audio={self.has_audio})"
        )


class VideoWriter(FrameSink):
    """Encode uint8 RGB frames (H.264 by default; see :data:`ENCODERS`; yuv420p, BT.709) at an
    exact rational frame rate.

    Writes go to a hidden temp file beside ``path`` that replaces it only on a clean
    :meth:`close`, so a crash or exception never leaves half a video or clobbers an old one.
    ``keyframe_interval`` bounds the distance between keyframes (FFmpeg's ``-g``), which bounds
    what a random read of a training window must decode. With ``audio_from``, that file's first
    audio track (if it has one) is muxed in alongside, stream-copied where the container allows
    and re-encoded to AAC otherwise, and cut where the
    written video ends. Odd frame sizes, which yuv420p cannot hold, are padded by one
    replicated row/column.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: Fraction | float | str,
        *,
        audio_from: str | os.PathLike | None = None,
        codec: str = "libx264",
        crf: int | None = None,
        preset: str | None = None,
        keyframe_interval: int | None = None,
    ) -> None:
        self.path = Path(path)
        if keyframe_interval is not None and keyframe_interval < 1:
            raise ValueError(f"keyframe_interval must be >= 1, got {keyframe_interval}")
        self._gop = keyframe_interval
        self.fps = _rate(fps)
        muxer = _MUXERS.get(self.path.suffix.lower())
        if muxer is None:
            raise ValueError(
                f"cannot write video {self.path}: suffix must be one of {', '.join(_MUXERS)}"
            )
        self._codec = codec
        self._options = encoder_options(codec, crf, preset)
        self.frames_written = 0
        self._video: av.VideoStream | None = None
        self._size: tuple[int, int] | None = None
        self._audio_in: av.container.InputContainer | None = None
        self._audio_units: Iterator[tuple[float, list[av.Packet]]] | None = None
        self._pending: tuple[float, list[av.Packet]] | None = None

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(self.path)
        # O_EXCL claims the name; mode 0o666 lets the umask decide, as for any new file.
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except OSError as exc:
            raise FrameWriteError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        self._tmp: Path | None = tmp
        try:
            self._out = av.open(str(tmp), mode="w", format=muxer,
                                options=_MUXER_OPTIONS.get(muxer, {}))
            if audio_from is not None:
                self._add_audio(Path(audio_from), copy_any=muxer == "matroska")
        except BaseException:
            self._discard()
            raise

    # -- audio -------------------------------------------------------------------------------

    def _add_audio(self, source: Path, copy_any: bool) -> None:
        """Open the audio source and add a matching output stream (copy or AAC re-encode)."""
        if not source.is_file():
            raise VideoReadError(f"audio source not found: {source}")
        try:
            self._audio_in = av.open(str(source), mode="r")
        except av.FFmpegError as exc:
            raise VideoReadError(
                f"cannot open audio source {source}: expected a media file FFmpeg can read ({exc})"
            ) from exc
        if not self._audio_in.streams.audio:
            return
        src = self._audio_in.streams.audio[0]
        if copy_any or src.codec_context.name in _COPYABLE_AUDIO:
            dst = self._out.add_stream_from_template(src)
            self._audio_units = self._copied_audio(src, dst)
        else:
            layout = src.layout.name
            if layout.endswith("channels"):  # e.g. a WAV without a channel mask
                layout = _DEFAULT_LAYOUTS.get(src.channels, "stereo")
            dst = self._out.add_stream("aac", rate=src.rate, layout=layout)
            self._audio_units = self._encoded_audio(src, dst)

    def _copied_audio(
        self, src: av.AudioStream, dst: av.AudioStream
    ) -> Iterator[tuple[float, list[av.Packet]]]:
        """Source packets retargeted at the output stream, with their start times."""
        assert self._audio_in is not None
        start = src.start_time or 0
        for packet in self._audio_in.demux(src):
            if packet.dts is None or packet.pts is None:  # demuxer's end-of-stream marker
                continue
            packet.stream = dst
            yield float((packet.pts - start) * src.time_base), [packet]

    def _encoded_audio(
        self, src: av.AudioStream, dst: av.AudioStream
    ) -> Iterator[tuple[float, list[av.Packet]]]:
        """Source audio decoded and re-encoded (PyAV resamples to the encoder's format)."""
        assert self._audio_in is not None
        start = src.start_time or 0
        time = 0.0
        for frame in self._audio_in.decode(src):
            time = float(((frame.pts or 0) - start) * src.time_base)
            frame.pts = None
            yield time, dst.encode(frame)
        yield time, dst.encode(None)  # the encoder's buffered tail, due with the last frame

    def _mux_audio_until(self, end: float) -> None:
        """Mux audio that starts before ``end`` seconds, interleaving it with the video."""
        if self._audio_units is None:
            return
        while True:
            if self._pending is None:
                self._pending = next(self._audio_units, None)
                if self._pending is None:
                    return
            time, packets = self._pending
            if time >= end:
                return
            self._out.mux(packets)
            self._pending = None

    # -- video -------------------------------------------------------------------------------

    def _add_video(self, height: int, width: int) -> av.VideoStream:
        """Create the video stream once the first frame fixes the size."""
        stream = self._out.add_stream(self._codec, rate=self.fps, options=self._options)
        stream.height, stream.width = height + height % 2, width + width % 2
        stream.pix_fmt = "yuv420p"
        cc = stream.codec_context
        cc.colorspace = cc.color_primaries = cc.color_trc = _BT709
        cc.color_range = _MPEG_RANGE
        if self._gop is not None:  # random access decodes at most this many frames per seek
            cc.gop_size = self._gop
        return stream

    def write(self, frame: np.ndarray) -> None:
        """Encode one uint8 RGB (H, W, 3) frame; every frame must have the first one's size."""
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(
                f"frame {self.frames_written} for {self.path} is {frame.dtype} {frame.shape}; "
                "expected uint8 RGB (H, W, 3)"
            )
        if self._video is None:
            self._size = frame.shape[:2]
            self._video = self._add_video(*self._size)
        elif frame.shape[:2] != self._size:
            raise ValueError(
                f"frame {self.frames_written} for {self.path} is {frame.shape[0]}x{frame.shape[1]};"
                f" expected {self._size[0]}x{self._size[1]} like frame 0"
            )
        pad = ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0))
        if any(p[1] for p in pad):
            frame = np.pad(frame, pad, mode="edge")
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        vf = vf.reformat(
            format="yuv420p",
            dst_colorspace=_BT709,
            dst_color_range=_MPEG_RANGE,
            interpolation=_TO_YUV,
        )
        vf.pts = self.frames_written
        vf.time_base = Fraction(1) / self.fps
        with self._naming_errors():
            self._out.mux(self._video.encode(vf))
            self.frames_written += 1
            self._mux_audio_until(float(self.frames_written / self.fps))

    def _naming_errors(self):
        """Turn encoder and file-system errors (full disk, bad path) into one naming ``path``."""
        return _WriteErrors(self.path, self.frames_written)

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Flush encoders, finish the file and move it onto ``path``."""
        if self._tmp is None:
            return
        try:
            if self._video is None:
                raise ValueError(f"no frames were written to {self.path}; refusing an empty video")
            with self._naming_errors():
                self._out.mux(self._video.encode(None))
                self._mux_audio_until(float(self.frames_written / self.fps))
                self._out.close()
                if self._audio_in is not None:
                    self._audio_in.close()
                os.replace(self._tmp, self.path)
            self._tmp = None
        except BaseException:
            self._discard()
            raise

    def abort(self) -> None:
        """Drop everything written so far; ``path`` is left as it was."""
        self._discard()

    def _discard(self) -> None:
        """Close whatever is open, ignoring FFmpeg's complaints, and delete the temp file."""
        if self._tmp is None:
            return
        for container in (getattr(self, "_out", None), self._audio_in):
            if container is not None:
                try:
                    container.close()
                except av.FFmpegError:
                    pass
        self._tmp.unlink(missing_ok=True)
        self._tmp = None


class _WriteErrors:
    """Context manager re-raising OS and FFmpeg errors as a :class:`FrameWriteError` that names
    the output file and the frame being written."""

    def __init__(self, path: Path, frame: int) -> None:
        self.path, self.frame = path, frame

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None or isinstance(exc, FrameWriteError):
            return
        if isinstance(exc, (OSError, av.FFmpegError)):
            reason = getattr(exc, "strerror", None) or str(exc)
            errno = getattr(exc, "errno", None)
            prefix = f"[Errno {errno}] " if isinstance(errno, int) and errno < 4096 else ""
            raise FrameWriteError(
                f"cannot write {self.path} (at frame {self.frame}): {prefix}{reason}"
            ) from exc
