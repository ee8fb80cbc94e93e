"""``infer --start K --max-frames N`` super-resolves input frames K..K+N-1 and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from tests.io.test_video import smooth_frames, write_video
from vsr.archs.ops.matlab_resize import imresize
from vsr.cli.main import main
from vsr.io.frames import frame_to_tensor, tensor_to_frame
from vsr.io.image import list_frames, read_image, write_image
from vsr.io.video import VideoReader

BICUBIC = ["--arch", "{type: Bicubic, scale: 2}"]


@pytest.fixture
def frames(tmp_path):
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (8, 10, 3), np.uint8) for _ in range(6)]
    for i, image in enumerate(images):
        write_image(tmp_path / "lr" / f"{i:04d}.png", image)
    return images


def test_a_window_of_frames_is_exactly_those_frames_upscaled(tmp_path, frames):
    assert main(["infer", *BICUBIC, "-i", str(tmp_path / "lr"), "-o", str(tmp_path / "sr"),
                 "--start", "2", "--max-frames", "3"]) == 0
    written = list_frames(tmp_path / "sr")
    assert len(written) == 3
    for out, source in zip(written, frames[2:5]):
        expected = tensor_to_frame(imresize(frame_to_tensor(source)[None], 2.0)[0])
        assert np.array_equal(read_image(out), expected)


def test_max_frames_past_the_end_stops_at_the_end(tmp_path, frames):
    assert main(["infer", *BICUBIC, "-i", str(tmp_path / "lr"), "-o", str(tmp_path / "sr"),
                 "--start", "4", "--max-frames", "10"]) == 0
    assert len(list_frames(tmp_path / "sr")) == 2


def test_video_window_drops_the_audio_and_keeps_the_count(tmp_path, capsys):
    clip = tmp_path / "in.mp4"
    write_video(clip, smooth_frames(12), 25)
    assert main(["infer", *BICUBIC, "-i", str(clip), "-o", str(tmp_path / "o.mp4"),
                 "--max-frames", "5", "--start", "1"]) == 0
    assert sum(1 for _ in VideoReader(tmp_path / "o.mp4")) == 5


def test_start_past_the_end_or_bad_counts_are_one_error(tmp_path, frames, capsys):
    assert main(["infer", *BICUBIC, "-i", str(tmp_path / "lr"), "-o", str(tmp_path / "sr"),
                 "--start", "6"]) == 2
    assert "--start 6: " in capsys.readouterr().err
    assert not (tmp_path / "sr").exists()
    for flag, value in (("--start", "-1"), ("--max-frames", "0"), ("--max-frames", "two")):
        with pytest.raises(SystemExit):
            main(["infer", *BICUBIC, "-i", str(tmp_path / "lr"), "-o", str(tmp_path / "x"),
                  flag, value])
