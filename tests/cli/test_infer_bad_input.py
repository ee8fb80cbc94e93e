"""``infer`` refuses outputs that would destroy data, names the file in every input/output error,
warns of cut-off inputs, and cleans up after Ctrl-C and killed runs."""

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.io.test_video import smooth_frames, write_video
from vsr.cli.main import main
from vsr.io.image import write_image
from vsr.io.video import VideoReader

ROOT = Path(__file__).resolve().parents[2]
BICUBIC = ["--arch", "{type: Bicubic, scale: 2}"]


def _infer_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "infer.py"), *BICUBIC, *args],
                          capture_output=True, text=True, cwd=ROOT, **kwargs)


def _one_error_line(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    return lines[0]


@pytest.fixture
def clip(tmp_path) -> Path:
    path = tmp_path / "in.mp4"
    write_video(path, smooth_frames(12), 25)
    return path


def test_crf_and_preset_give_a_decodable_video_with_every_frame(tmp_path, clip):
    fast, slow = tmp_path / "fast.mp4", tmp_path / "small.mkv"
    assert main(["infer", *BICUBIC, "-i", str(clip), "-o", str(fast), "--crf", "30",
                 "--preset", "ultrafast"]) == 0
    assert main(["infer", *BICUBIC, "-i", str(clip), "-o", str(slow), "--crf", "40",
                 "--preset", "slow"]) == 0
    frames = list(VideoReader(fast))
    assert len(frames) == 12 and frames[0].shape == (128, 192, 3)
    assert len(list(VideoReader(slow))) == 12
    assert slow.stat().st_size < fast.stat().st_size  # higher crf: fewer bits
    mpeg4 = tmp_path / "mpeg4.avi"
    assert main(["infer", *BICUBIC, "-i", str(clip), "-o", str(mpeg4), "--codec", "mpeg4",
                 "--crf", "5", "--queue-frames", "0"]) == 0
    assert len(list(VideoReader(mpeg4))) == 12


@pytest.mark.parametrize(("flags", "message"), [
    (["--preset", "fastest"], "unknown preset 'fastest' for libx264: expected one of ultrafast"),
    (["--codec", "h266"], "unknown codec 'h266'; this build can write: libx264"),
    (["--crf", "70"], "crf 70 is out of range for libx264: expected 0..51"),
    (["--codec", "mpeg4", "--preset", "slow"], "mpeg4 takes no preset"),
])
def test_bad_encoder_flags_are_one_line_before_anything_is_written(tmp_path, clip, flags,
                                                                   message):
    line = _one_error_line(_infer_cli("-i", str(clip), "-o", str(tmp_path / "o.mp4"), *flags))
    assert message in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path, clip):
    before = clip.read_bytes()
    link = tmp_path / "link.mp4"
    link.symlink_to(clip)
    for out in (clip, link, tmp_path / "." / "in.mp4"):
        line = _one_error_line(_infer_cli("-i", str(clip), "-o", str(out), "--overwrite"))
        assert "is the input" in line
    assert clip.read_bytes() == before


def test_existing_output_is_refused_unless_overwrite(tmp_path, clip):
    video = tmp_path / "out.mp4"
    video.write_bytes(b"old")
    line = _one_error_line(_infer_cli("-i", str(clip), "-o", str(video)))
    assert str(video) in line and "--overwrite" in line and video.read_bytes() == b"old"
    assert main(["infer", *BICUBIC, "-i", str(clip), "-o", str(video), "--overwrite"]) == 0
    assert len(list(VideoReader(video))) == 12

    folder = tmp_path / "frames"
    for i in range(20):  # a longer old run: its frames 12..19 must not survive
        write_image(folder / f"{i:08d}.png", np.zeros((4, 4, 3), np.uint8))
    line = _one_error_line(_infer_cli("-i", str(clip), "-o", str(folder)))
    assert str(folder) in line and "--overwrite" in line
    assert len(list(folder.glob("*.png"))) == 20
    assert main(["infer", *BICUBIC, "-i", str(clip), "-o", str(folder), "--overwrite"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == [f"{i:08d}.png" for i in range(12)]


def test_unknown_output_extension_lists_the_containers(tmp_path, clip):
    line = _one_error_line(_infer_cli("-i", str(clip), "-o", str(tmp_path / "x.mpg")))
    assert "x.mpg" in line and ".mp4, .m4v, .mov, .mkv, .avi" in line
    assert not (tmp_path / "x.mpg").exists()
    assert main(["infer", *BICUBIC, "-i", str(clip), "-o", str(tmp_path / "plain")]) == 0
    assert len(list((tmp_path / "plain").glob("*.png"))) == 12


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_truncated_input_warns_with_decoded_and_expected_counts(tmp_path, suffix):
    whole = tmp_path / f"whole{suffix}"
    write_video(whole, smooth_frames(12), 25)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[:-400])  # the last few frames' bytes
    out = _infer_cli("-i", str(cut), "-o", str(tmp_path / "sr.mp4"))
    assert out.returncode == 0, out.stderr
    written = len(list(VideoReader(tmp_path / "sr.mp4")))
    assert 0 < written < 12
    assert f"warning: {cut} ended after {written} of its 12 frames" in out.stderr


def test_input_with_no_decodable_frame_blames_the_input(tmp_path, clip):
    data = clip.read_bytes()
    header_only = tmp_path / "header.mp4"
    header_only.write_bytes(data[: data.index(b"mdat") + 40])
    line = _one_error_line(_infer_cli("-i", str(header_only), "-o", str(tmp_path / "e.mp4")))
    assert "header.mp4" in line and "e.mp4" not in line
    assert not (tmp_path / "e.mp4").exists()


def test_sigint_removes_the_partial_video_and_exits_130(tmp_path):
    frames = smooth_frames(1, 90, 160) * 400
    src = tmp_path / "long.mp4"
    write_video(src, frames, 25, preset="ultrafast")
    out = tmp_path / "sr.mp4"
    proc = subprocess.Popen([sys.executable, str(ROOT / "infer.py"), *BICUBIC, "-i", str(src),
                             "-o", str(out), "--preset", "ultrafast"],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size > 0 for p in tmp_path.glob(".sr.mp4.*.tmp")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stderr.strip().splitlines() == [f"interrupted: no output written to {out}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4"]


def test_stale_temp_files_of_killed_runs_are_removed_at_start(tmp_path, clip):
    dead = subprocess.Popen(["true"])
    dead.wait()
    live = subprocess.Popen(["sleep", "60"])
    try:
        stale = tmp_path / f".sr.mp4.{dead.pid}-0123456789ab.tmp"
        legacy = tmp_path / ".sr.mp4.0123456789ab.tmp"
        busy = tmp_path / f".sr.mp4.{live.pid}-0123456789ab.tmp"
        other = tmp_path / f".notes.txt.{dead.pid}-0123456789ab.tmp"
        for path in (stale, legacy, busy, other):
            path.write_bytes(b"partial")
        os.utime(legacy, (time.time() - 60,) * 2)
        assert main(["infer", *BICUBIC, "-i", str(clip), "-o", str(tmp_path / "sr.mp4")]) == 0
        assert not stale.exists() and not legacy.exists()
        assert busy.exists() and other.exists()
    finally:
        live.kill()
        live.wait()


def _file_size_limit(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("name", ["sr.mp4", "frames"])
def test_write_errors_name_the_output(tmp_path, name):
    rng = np.random.default_rng(0)
    src = tmp_path / "noise"
    for i in range(4):
        write_image(src / f"{i:04d}.png", rng.integers(0, 256, (64, 96, 3), np.uint8))
    out = tmp_path / name
    line = _one_error_line(_infer_cli("-i", str(src), "-o", str(out), "--fps", "25",
                                      preexec_fn=_file_size_limit(8192)))
    assert str(out) in line and "[Errno 27] File too large" in line
    assert not list(tmp_path.glob(".sr.mp4*"))
