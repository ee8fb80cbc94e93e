"""``vsr evaluate``: saved outputs scored against GT give test.py's numbers (RRN protocol) and the
official TecoGAN script's (metrics_tecogan.pt); videos score as their decoded frames; frames that
do not pair up are one error (exit 2) naming clip, folders and counts or frames."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import load_fixture, shared_path
from vsr.cli.main import main
from vsr.io.image import read_image, write_image
from vsr.io.video import VideoReader, VideoWriter

ROOT = Path(__file__).resolve().parents[2]
RRN_CONFIG = str(ROOT / "configs" / "bicubic" / "bicubic_x4_vid4_bd_rrn.yaml")
ROUNDED = ["test.metrics.PSNR.round_to_8bit=true", "test.metrics.SSIM.round_to_8bit=true"]


def _results(folder: Path, dataset: str = "Vid4") -> dict:
    return json.loads((folder / "results" / f"{dataset}.json").read_text())


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err  # one line, no traceback
    return err[0]


@pytest.fixture(scope="module")
def small_vid4(tmp_path_factory) -> Path:
    """Real Vid4 GT, small: 4 frames of calendar and 3 of city, 64x80 crops."""
    vid4 = shared_path("data", "Vid4", "GT")
    root = tmp_path_factory.mktemp("vid4")
    for clip, frames in (("calendar", 4), ("city", 3)):
        for t in range(frames):
            frame = read_image(vid4 / clip / f"{t:04d}.png")[200:264, 300:380]
            write_image(root / "GT" / clip / f"{t:04d}.png", np.ascontiguousarray(frame))
    return root


@pytest.fixture(scope="module")
def rrn_run(small_vid4, tmp_path_factory) -> Path:
    """test.py on Bicubic under the RRN protocol (SR rounded to 8 bit, as the saved PNGs are),
    with its SR frames saved."""
    out = tmp_path_factory.mktemp("exp")
    assert main(["test", "-c", RRN_CONFIG, f"test.datasets.Vid4.root={small_vid4}",
                 f"output_root={out}", "test.save_images=true", *ROUNDED]) == 0
    return out / "bicubic_x4_vid4_bd_rrn"


def test_test_py_outputs_reproduce_its_scores_exactly(rrn_run, small_vid4, tmp_path):
    """Under the test config's own protocol, evaluate on test.py's saved frames (592-style
    padded size, 00000000.png names) gives test.py's per-frame values bit for bit."""
    code = main(["evaluate", "--sr", str(rrn_run / "visual" / "Vid4"), "--gt",
                 str(small_vid4 / "GT"), "-c", RRN_CONFIG, *ROUNDED, "--name", "same",
                 "--output-root", str(tmp_path)])
    assert code == 0
    ran, scored = _results(rrn_run), _results(tmp_path / "same")
    assert [c["per_frame"] for c in scored["clips"]] == [c["per_frame"] for c in ran["clips"]]
    assert scored["average"] == ran["average"]
    assert [c["frames"] for c in scored["clips"]] == [4, 3]
    assert scored["protocols"] == ran["protocols"]
    run = json.loads((tmp_path / "same" / "run.json").read_text())
    assert run["evaluated"]["clips"]["calendar"] == {"frames": 4, "paired_by": "sorted order"}
    assert "outputs " in (tmp_path / "same" / "results" / "Vid4.md").read_text()


def test_named_rrn_protocol_is_the_configs(rrn_run, small_vid4, tmp_path, capsys):
    """``--protocol rrn`` is configs/_base_/vid4_bd_rrn.yaml: GT reflect-padded by 8 px, 8-px
    crop, MATLAB Y, float. On 8-bit frames it differs from the rounded protocol only by float32
    representation (< 1e-6 dB, SSIM < 1e-7)."""
    code = main(["evaluate", "--sr", str(rrn_run / "visual" / "Vid4"), "--gt",
                 str(small_vid4 / "GT"), "--protocol", "rrn", "--output-root", str(tmp_path)])
    assert code == 0
    assert "calendar: 4 frame pairs, by sorted order" in capsys.readouterr().out
    [folder] = [p for p in tmp_path.iterdir() if p.name.startswith("evaluate-rrn-Vid4-")]
    ran, scored = _results(rrn_run), _results(folder)
    for mine, theirs in zip(scored["clips"], ran["clips"]):
        np.testing.assert_allclose(mine["per_frame"]["PSNR"], theirs["per_frame"]["PSNR"],
                                   rtol=0, atol=1e-6)
        np.testing.assert_allclose(mine["per_frame"]["SSIM"], theirs["per_frame"]["SSIM"],
                                   rtol=0, atol=1e-7)
    assert scored["protocols"]["PSNR"] == "Y(matlab), crop 8 px, all frames, float"


def _write_tecogan_frames(fixture, tmp_path) -> tuple[Path, Path]:
    for t, (sr, gt) in enumerate(zip(fixture["result_uint8"].numpy(), fixture["gt_uint8"].numpy())):
        write_image(tmp_path / "sr" / "calendar" / f"output_{t + 1:04d}.png", sr)
        write_image(tmp_path / "gt" / "calendar" / f"{t:04d}.png", gt)
    return tmp_path / "sr", tmp_path / "gt"


def test_tecogan_protocol_reproduces_the_official_script(tmp_path):
    fixture = load_fixture("metrics_tecogan.pt")
    sr, gt = _write_tecogan_frames(fixture, tmp_path)
    assert main(["evaluate", "--sr", str(sr), "--gt", str(gt), "--protocol", "tecogan",
                 "--name", "teco", "--output-root", str(tmp_path / "out")]) == 0
    record = _results(tmp_path / "out" / "teco")
    per_frame = record["clips"][0]["per_frame"]
    assert per_frame["PSNR"][:2] == [None, None] and per_frame["PSNR"][5:] == [None, None]
    np.testing.assert_allclose(per_frame["PSNR"][2:5], fixture["psnr"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(per_frame["SSIM"][2:5], fixture["ssim"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(per_frame["tOF"][3:5], fixture["tof"], rtol=0, atol=1e-4)
    means = fixture["frame_avg"]
    assert abs(record["average"]["PSNR"] - means["PSNR"]) < 1e-6
    assert abs(record["average"]["SSIM"] - means["SSIM"]) < 1e-6
    assert abs(record["average"]["tOF"] - means["tOF"]) < 1e-4


def test_a_video_scores_as_its_decoded_frames(tmp_path):
    """SR as an mp4 (one clip) against the GT folder of clips: the same numbers as the frames
    the video decodes to, written as PNGs."""
    fixture = load_fixture("metrics_tecogan.pt")
    _, gt = _write_tecogan_frames(fixture, tmp_path)
    video = tmp_path / "calendar.mp4"
    with VideoWriter(video, fps=25) as writer:
        for frame in fixture["result_uint8"].numpy():
            writer.write(frame)
    for t, frame in enumerate(VideoReader(video)):
        write_image(tmp_path / "decoded" / "calendar" / f"{t:04d}.png", frame)
    for name, sr in (("video", video), ("frames", tmp_path / "decoded")):
        assert main(["evaluate", "--sr", str(sr), "--gt", str(gt), "--protocol", "tecogan",
                     "--name", name, "--output-root", str(tmp_path / "out")]) == 0
    from_video, from_frames = (_results(tmp_path / "out" / n) for n in ("video", "frames"))
    assert from_video["clips"][0]["per_frame"] == from_frames["clips"][0]["per_frame"]
    assert from_video["average"]["PSNR"] < fixture["frame_avg"]["PSNR"]  # H.264 is lossy


def _frames(folder: Path, count: int, size=(48, 56), start=0) -> Path:
    rng = np.random.default_rng(count)
    for t in range(count):
        write_image(folder / f"{start + t:04d}.png", rng.integers(0, 256, (*size, 3), np.uint8))
    return folder


def test_same_names_pair_by_name_and_scores_follow_the_names(tmp_path):
    """GT frames 0000..0002 and SR frames of the same names: paired by name. An SR copy of the
    GT scores infinite PSNR (identical) frame by frame."""
    gt = _frames(tmp_path / "gt" / "walk", 3)
    for path in gt.iterdir():
        write_image(tmp_path / "sr" / "walk" / path.name, read_image(path))
    assert main(["evaluate", "--sr", str(tmp_path / "sr"), "--gt", str(tmp_path / "gt"),
                 "--protocol", "basicvsr", "--name", "n", "--output-root", str(tmp_path)]) == 0
    run = json.loads((tmp_path / "n" / "run.json").read_text())
    assert run["evaluated"]["clips"]["walk"]["paired_by"] == "name"
    assert _results(tmp_path / "n")["clips"][0]["per_frame"]["PSNR"] == [float("inf")] * 3


def test_a_frame_count_mismatch_is_one_error_naming_clip_folders_and_counts(tmp_path, capsys):
    _frames(tmp_path / "sr" / "walk", 4)
    _frames(tmp_path / "gt" / "walk", 5)
    assert main(["evaluate", "--sr", str(tmp_path / "sr"), "--gt", str(tmp_path / "gt"),
                 "--protocol", "basicvsr", "--output-root", str(tmp_path / "out")]) == 2
    err = _error(capsys)
    assert "clip walk" in err and "holds 4 frames" in err and "holds 5" in err
    assert str(tmp_path / "sr" / "walk") in err and str(tmp_path / "gt" / "walk") in err
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_a_video_with_fewer_frames_is_the_same_error(tmp_path, capsys):
    with VideoWriter(tmp_path / "walk.mp4", fps=25) as writer:
        for _ in range(3):
            writer.write(np.zeros((48, 56, 3), np.uint8))
    _frames(tmp_path / "gt" / "walk", 5)
    assert main(["evaluate", "--sr", str(tmp_path / "walk.mp4"), "--gt", str(tmp_path / "gt"),
                 "--protocol", "basicvsr", "--output-root", str(tmp_path / "out")]) == 2
    err = _error(capsys)
    assert "clip walk: the SR" in err and "walk.mp4 holds 3 frames" in err and "holds 5" in err


def test_a_size_mismatch_names_both_frames(tmp_path, capsys):
    _frames(tmp_path / "sr" / "walk", 3, size=(48, 56))
    _frames(tmp_path / "gt" / "walk", 3, size=(48, 60))
    assert main(["evaluate", "--sr", str(tmp_path / "sr"), "--gt", str(tmp_path / "gt"),
                 "--protocol", "basicvsr", "--output-root", str(tmp_path / "out")]) == 2
    err = _error(capsys)
    assert f"SR frame {tmp_path / 'sr' / 'walk' / '0000.png'} is 48x56" in err
    assert f"GT frame {tmp_path / 'gt' / 'walk' / '0000.png'} is 48x60" in err


def test_a_later_frame_of_another_size_is_named_with_its_clip(tmp_path, capsys):
    _frames(tmp_path / "sr" / "walk", 3)
    write_image(tmp_path / "sr" / "walk" / "0002.png", np.zeros((40, 56, 3), np.uint8))
    _frames(tmp_path / "gt" / "walk", 3)
    assert main(["evaluate", "--sr", str(tmp_path / "sr"), "--gt", str(tmp_path / "gt"),
                 "--protocol", "basicvsr", "--output-root", str(tmp_path / "out")]) == 2
    err = _error(capsys)
    assert err.startswith("error: Vid4/walk, reading frame 2: clip walk: SR frame ")
    assert "0002.png is 40x56" in err


def test_rrn_protocol_on_unpadded_outputs_says_why(tmp_path, capsys):
    _frames(tmp_path / "sr" / "walk", 2)
    _frames(tmp_path / "gt" / "walk", 2)
    assert main(["evaluate", "--sr", str(tmp_path / "sr"), "--gt", str(tmp_path / "gt"),
                 "--protocol", "rrn", "--output-root", str(tmp_path / "out")]) == 2
    err = _error(capsys)
    assert "is 64x72 (48x56 reflect-padded by 8 px" in err
    assert "these SR frames have the unpadded GT's size" in err


def test_clips_select_and_a_missing_clip_is_named(tmp_path, capsys):
    for clip in ("city", "walk"):
        _frames(tmp_path / "sr" / clip, 2)
        _frames(tmp_path / "gt" / clip, 2)
    assert main(["evaluate", "--sr", str(tmp_path / "sr"), "--gt", str(tmp_path / "gt"),
                 "--protocol", "basicvsr", "--clips", "walk", "test.averaging=frame",
                 "--name", "w", "--output-root", str(tmp_path / "out")]) == 0
    record = _results(tmp_path / "out" / "w")
    assert [c["name"] for c in record["clips"]] == ["walk"]
    assert record["averaging"] == "mean over all frames of the set"
    capsys.readouterr()
    assert main(["evaluate", "--sr", str(tmp_path / "sr"), "--gt", str(tmp_path / "gt"),
                 "--protocol", "basicvsr", "--clips", "foliage",
                 "--output-root", str(tmp_path / "out")]) == 2
    err = _error(capsys)
    assert "clip 'foliage': no SR clip of that name in" in err and "city, walk" in err


def test_an_unknown_protocol_lists_the_known_ones(tmp_path, capsys):
    _frames(tmp_path / "sr", 1)
    assert main(["evaluate", "--sr", str(tmp_path / "sr"), "--gt", str(tmp_path / "sr"),
                 "--protocol", "vrt"]) == 2
    assert "rrn, basicvsr, tecogan, reds4-rgb" in _error(capsys)


def test_another_evaluation_never_overwrites_a_results_folder(tmp_path, capsys):
    _frames(tmp_path / "a" / "walk", 2)
    _frames(tmp_path / "b" / "walk", 2, start=5)  # other content (and names)
    _frames(tmp_path / "gt" / "walk", 2)
    args = ["--gt", str(tmp_path / "gt"), "--protocol", "basicvsr", "--name", "x",
            "--output-root", str(tmp_path / "out")]
    assert main(["evaluate", "--sr", str(tmp_path / "a"), *args]) == 0
    assert main(["evaluate", "--sr", str(tmp_path / "a"), *args]) == 0  # the same: its numbers
    first = (tmp_path / "out" / "x" / "results" / "Vid4.json").read_text()
    capsys.readouterr()
    assert main(["evaluate", "--sr", str(tmp_path / "b"), *args]) == 2
    err = _error(capsys)
    assert "holds the results of another evaluation (its sr, clips differ" in err
    assert (tmp_path / "out" / "x" / "results" / "Vid4.json").read_text() == first


def test_a_test_run_folder_is_not_taken_over(rrn_run, small_vid4, capsys):
    assert main(["evaluate", "--sr", str(rrn_run / "visual" / "Vid4"), "--gt",
                 str(small_vid4 / "GT"), "--protocol", "rrn", "--name", rrn_run.name,
                 "--output-root", str(rrn_run.parent)]) == 2
    assert "holds another run (not a vsr evaluate of saved outputs" in _error(capsys)


def test_frames_and_video_of_one_clip_score_the_frames(tmp_path, capsys):
    """A test run with save_images and save_video leaves both: the lossless PNGs are scored."""
    gt = _frames(tmp_path / "gt" / "walk", 2)
    for path in gt.iterdir():
        write_image(tmp_path / "sr" / "walk" / path.name, read_image(path))
    with VideoWriter(tmp_path / "sr" / "walk.mp4", fps=25) as writer:
        for path in sorted(gt.iterdir()):
            writer.write(read_image(path))
    assert main(["evaluate", "--sr", str(tmp_path / "sr"), "--gt", str(tmp_path / "gt"),
                 "--protocol", "basicvsr", "--name", "fv",
                 "--output-root", str(tmp_path / "out")]) == 0
    assert "warning: clip 'walk' is both frames" in capsys.readouterr().err
    assert _results(tmp_path / "out" / "fv")["average"]["PSNR"] == float("inf")

