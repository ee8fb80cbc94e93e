"""Video I/O: real-clip decode, exact rates, round-trip quality, audio, atomicity."""

from __future__ import annotations

import itertools
import types
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.conftest import shared_path
from vsr.io.image import FrameReadError
from vsr.io.video import VideoReader, VideoReadError, VideoWriter

BBB = ("data", "clips", "big_buck_bunny_720p_1mb.mp4")


def smooth_frames(n: int, height: int = 64, width: int = 96) -> list[np.ndarray]:
    """Moving smooth colour waves: natural-ish content that H.264 at crf 18 keeps well."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = []
    for t in range(n):
        r = 128 + 90 * np.sin((x + 2 * t) / 9)
        g = 128 + 90 * np.cos((y - t) / 7)
        b = 128 + 70 * np.sin((x + y + 3 * t) / 13)
        frames.append(np.stack([r, g, b], axis=-1).round().astype(np.uint8))
    return frames


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def write_video(path: Path, frames: list[np.ndarray], fps: Fraction | float, **kwargs) -> None:
    with VideoWriter(path, fps, **kwargs) as writer:
        for frame in frames:
            writer.write(frame)


def audio_info(path: Path) -> tuple[str, int, float]:
    """(codec, channels, seconds covered by the audio packets) of a file's first audio track."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        end = max(
            (p.pts + p.duration) * stream.time_base
            for p in container.demux(stream)
            if p.pts is not None
        )
        start = stream.start_time or 0
        return stream.codec_context.name, stream.channels, float(end - start * stream.time_base)


def write_wav(path: Path, seconds: float, rate: int = 44100) -> None:
    """A mono PCM sine tone: an audio codec mp4 should not take as-is."""
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate, layout="mono")
        t = np.arange(int(seconds * rate)) / rate
        samples = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)[None]
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.rate = rate
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


# -- reading -------------------------------------------------------------------------------


def test_reads_real_clip_metadata() -> None:
    reader = VideoReader(shared_path(*BBB))
    assert reader.frame_count == 132
    assert reader.size == (720, 1280)
    assert reader.fps == 25 and isinstance(reader.fps, Fraction)
    assert reader.has_audio


def test_decodes_every_frame_of_real_clip_one_at_a_time() -> None:
    reader = VideoReader(shared_path(*BBB))
    frames = iter(reader)
    assert isinstance(frames, types.GeneratorType)  # lazy: nothing decoded until asked
    first, second = itertools.islice(frames, 2)
    assert first.shape == (720, 1280, 3) and first.dtype == np.uint8
    assert 20 < first.mean() < 235  # a real picture, not black or blown-out garbage
    assert not np.array_equal(first, second)
    frames.close()
    assert sum(1 for _ in reader) == 132  # a reader can be walked again, to the end


def test_missing_garbage_and_audio_only_files_raise_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(VideoReadError, match="not found.*nope.mp4"):
        VideoReader(missing)

    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8).tobytes())
    with pytest.raises(FrameReadError, match=r"garbage\.mp4.*expected a video file"):
        VideoReader(garbage)

    wav = tmp_path / "tone.wav"
    write_wav(wav, 0.1)
    with pytest.raises(VideoReadError, match=r"tone\.wav has no video stream"):
        VideoReader(wav)


def test_corrupt_stream_errors_name_frame_or_warn_of_lost_frames(tmp_path: Path) -> None:
    clean = tmp_path / "clean.avi"
    write_video(clean, smooth_frames(30), 25)
    data = clean.read_bytes()

    def smudge(name: str, at: float) -> Path:
        offset = int(len(data) * at)
        path = tmp_path / name
        path.write_bytes(data[:offset] + b"\xff" * 2000 + data[offset + 2000 :])
        return path

    with pytest.raises(VideoReadError, match=r"cannot decode .*broken\.avi at frame \d+"):
        list(VideoReader(smudge("broken.avi", 0.5)))
    with pytest.warns(RuntimeWarning, match=r"lost\.avi ended after \d+ of the 30 frames"):
        assert len(list(VideoReader(smudge("lost.avi", 0.7)))) < 30


# -- writing -------------------------------------------------------------------------------


def test_round_trip_keeps_ntsc_rate_count_and_quality(tmp_path: Path) -> None:
    frames = smooth_frames(24)
    out = tmp_path / "ntsc.mp4"
    write_video(out, frames, Fraction(30000, 1001))
    reader = VideoReader(out)
    assert reader.fps == Fraction(30000, 1001)
    assert reader.frame_count == 24 and reader.size == (64, 96) and not reader.has_audio
    decoded = list(reader)
    assert len(decoded) == 24
    assert min(psnr(a, b) for a, b in zip(frames, decoded)) > 35


def test_float_rates_snap_to_their_exact_ratio(tmp_path: Path) -> None:
    writer = VideoWriter(tmp_path / "x.mp4", 30000 / 1001)
    assert writer.fps == Fraction(30000, 1001)
    assert VideoWriter(tmp_path / "y.mp4", 25.0).fps == 25
    writer.abort()
    with pytest.raises(ValueError, match="positive"):
        VideoWriter(tmp_path / "z.mp4", 0)


def test_odd_sizes_are_padded_by_one_replicated_pixel(tmp_path: Path) -> None:
    frames = [f[:33, :47].copy() for f in smooth_frames(5)]
    out = tmp_path / "odd.mkv"
    write_video(out, frames, 25)
    decoded = list(VideoReader(out))
    assert decoded[0].shape == (34, 48, 3)
    assert min(psnr(a, b[:33, :47]) for a, b in zip(frames, decoded)) > 35


def test_bad_frames_are_rejected_naming_the_index(tmp_path: Path) -> None:
    out = tmp_path / "bad.mp4"
    with pytest.raises(ValueError, match=r"frame 1 .* 32x96; expected 64x96"):
        with VideoWriter(out, 25) as writer:
            writer.write(smooth_frames(1)[0])
            writer.write(smooth_frames(1)[0][:32])
    with pytest.raises(ValueError, match="expected uint8 RGB"):
        with VideoWriter(out, 25) as writer:
            writer.write(np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="suffix"):
        VideoWriter(tmp_path / "x.webm", 25)
    assert list(tmp_path.iterdir()) == []


def test_exception_leaves_no_file_and_keeps_existing_target(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(out, 25) as writer:
            for frame in smooth_frames(3):
                writer.write(frame)
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []

    out.write_bytes(b"previous result")
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(out, 25) as writer:
            writer.write(smooth_frames(1)[0])
            raise RuntimeError("boom")
    assert out.read_bytes() == b"previous result"
    assert list(tmp_path.iterdir()) == [out]

    with pytest.raises(ValueError, match="no frames"):
        with VideoWriter(out, 25):
            pass
    assert out.read_bytes() == b"previous result"

    write_video(out, smooth_frames(2), 25)  # a clean close replaces it
    assert VideoReader(out).frame_count == 2


def test_audio_is_stream_copied_from_real_clip(tmp_path: Path) -> None:
    source = shared_path(*BBB)
    out = tmp_path / "with_audio.mp4"
    write_video(out, smooth_frames(132), 25, audio_from=source)
    assert VideoReader(out).has_audio
    codec, channels, seconds = audio_info(out)
    src_codec, src_channels, src_seconds = audio_info(source)
    assert (codec, channels) == (src_codec, src_channels) == ("aac", 6)
    assert seconds == pytest.approx(132 / 25, abs=0.05)
    assert seconds == pytest.approx(src_seconds, abs=0.05)
    with av.open(str(out)) as a, av.open(str(source)) as b:
        copied = next(p for p in a.demux(a.streams.audio[0]) if p.size)
        original = next(p for p in b.demux(b.streams.audio[0]) if p.size)
        assert bytes(copied) == bytes(original)  # remuxed, not re-encoded


def test_audio_is_cut_where_a_shorter_video_ends(tmp_path: Path) -> None:
    out = tmp_path / "short.mp4"
    write_video(out, smooth_frames(25), 25, audio_from=shared_path(*BBB))
    assert audio_info(out)[2] == pytest.approx(1.0, abs=0.05)


def test_audio_mp4_cannot_copy_is_reencoded_to_aac(tmp_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    write_wav(wav, 2.0)
    out = tmp_path / "reencoded.mp4"
    write_video(out, smooth_frames(25), 25, audio_from=wav)
    codec, channels, seconds = audio_info(out)
    assert (codec, channels) == ("aac", 1)
    assert seconds == pytest.approx(1.0, abs=0.05)


def test_audio_source_without_audio_gives_silent_video(tmp_path: Path) -> None:
    silent = tmp_path / "silent.mp4"
    write_video(silent, smooth_frames(2), 25)
    out = tmp_path / "out.mp4"
    write_video(out, smooth_frames(2), 25, audio_from=silent)
    assert not VideoReader(out).has_audio
    with pytest.raises(VideoReadError, match="audio source not found"):
        VideoWriter(tmp_path / "x.mp4", 25, audio_from=tmp_path / "none.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "silent.mp4"]
