"""Entry points end to end: test.py on Vid4 reproduces the Bicubic numbers; infer.py streams a
video with fps and audio; bad input gives one clear error and loses nothing."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import shared_path
from vsr.cli.main import main
from vsr.data.eyetracking import EyeTrackingHD
from vsr.io.image import write_image
from vsr.io.video import VideoReader

ROOT = Path(__file__).resolve().parents[2]


def _vid4_test(tmp_path, config: str) -> dict:
    vid4 = shared_path("data", "Vid4")
    code = main(["test", "-c", str(ROOT / "configs" / "bicubic" / config),
                 f"test.datasets.Vid4.root={vid4}", f"output_root={tmp_path}"])
    assert code == 0
    name = yaml.safe_load((ROOT / "configs" / "bicubic" / config).read_text())["name"]
    return json.loads((tmp_path / name / "results" / "Vid4.json").read_text())


def test_bicubic_vid4_bi_reproduces_the_published_row(tmp_path):
    """BI x4 then MATLAB bicubic x4, MATLAB Y, no crop, all 171 frames, mean per clip then over
    clips: 23.78 dB / 0.6348, the row RVRT Table 5 prints (23.78 / 0.6347)."""
    record = _vid4_test(tmp_path, "bicubic_x4_vid4_bi.yaml")
    assert [c["frames"] for c in record["clips"]] == [41, 34, 49, 47]
    assert abs(record["average"]["PSNR"] - 23.78) < 0.01
    assert abs(record["average"]["SSIM"] - 0.6347) < 0.001
    assert (tmp_path / "bicubic_x4_vid4_bi" / "results" / "Vid4.md").is_file()


def test_bicubic_vid4_bd_reproduces_the_published_psnr(tmp_path):
    """BD (13x13, sigma 1.6, replicate, phase 0, uint8 LR): 21.79 dB (RVRT Table 5: 21.80);
    SSIM 0.5428 against the printed 0.5246 (see README, "Bicubic on Vid4")."""
    record = _vid4_test(tmp_path, "bicubic_x4_vid4_bd.yaml")
    assert abs(record["average"]["PSNR"] - 21.79) < 0.01
    assert abs(record["average"]["SSIM"] - 0.5428) < 0.001


def test_infer_video_keeps_fps_and_audio(tmp_path):
    clip = shared_path("data", "clips", "big_buck_bunny_720p_1mb.mp4")
    small = tmp_path / "in.mp4"
    # a short low-resolution input keeps the test fast: every 4th pixel of the first 12 frames
    from vsr.io.video import VideoWriter

    with VideoWriter(small, fps=VideoReader(clip).fps, audio_from=clip) as writer:
        for i, frame in enumerate(VideoReader(clip)):
            if i == 12:
                break
            writer.write(np.ascontiguousarray(frame[::8, ::8]))
    out = tmp_path / "sr.mp4"
    code = main(["infer", "--arch", "{type: Bicubic, scale: 2}", "-i", str(small),
                 "-o", str(out)])
    assert code == 0
    reader = VideoReader(out)
    assert reader.fps == VideoReader(small).fps == 25
    assert reader.size == (180, 320) and reader.has_audio
    assert sum(1 for _ in reader) == 12


def test_infer_frames_folder_to_frames_folder(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(tmp_path / "lr" / f"{i:04d}.png", rng.integers(0, 256, (8, 10, 3), np.uint8))
    code = main(["infer", "--arch", "{type: ELSR, scale: 2}", "-i", str(tmp_path / "lr"),
                 "-o", str(tmp_path / "sr")])
    assert code == 0
    assert len(list((tmp_path / "sr").glob("*.png"))) == 3


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "test.py"), *args], capture_output=True,
                          text=True, cwd=ROOT)


def test_unknown_config_key_is_one_clear_error():
    out = _run_cli("-c", str(ROOT / "configs" / "bicubic" / "bicubic_x4_vid4_bi.yaml"),
                   "test.metrics.PSNR.crop=4")
    assert out.returncode == 2
    assert "'test.metrics.PSNR.crop': unknown key" in out.stderr
    assert "Traceback" not in out.stderr


def test_degradation_params_are_checked_against_the_function():
    out = _run_cli("-c", str(ROOT / "configs" / "bicubic" / "bicubic_x4_vid4_bd.yaml"),
                   "test.datasets.Vid4.degradation.sigmaa=1.5")
    assert out.returncode == 2
    assert "'test.datasets.Vid4.degradation.sigmaa': unknown key for degradation 'BD'" in out.stderr


def test_unknown_registry_name_lists_close_matches():
    out = _run_cli("-c", str(ROOT / "configs" / "bicubic" / "bicubic_x4_vid4_bi.yaml"),
                   "model.arch.type=Bicubc")
    assert out.returncode == 2 and "close matches: Bicubic" in out.stderr


def test_corrupt_frame_is_named_and_results_are_not_half_written(tmp_path):
    gt = tmp_path / "gt" / "clip"
    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(gt / f"{i:04d}.png", rng.integers(0, 256, (16, 16, 3), np.uint8))
    cfg = {"name": "bad", "output_root": str(tmp_path / "exp"),
           "model": {"type": "SupervisedVSR", "arch": {"type": "Bicubic", "scale": 4}},
           "test": {"datasets": {"d": {"type": "VideoFolderTest", "gt_root": str(tmp_path / "gt"),
                                       "degradation": {"type": "BI"}, "scale": 4}},
                    "metrics": {"PSNR": {"type": "PSNR"}}}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["test", "-c", str(path)]) == 0
    good = (tmp_path / "exp" / "bad" / "results" / "d.json").read_text()
    (gt / "0001.png").write_bytes(b"\x89PNG broken")
    out = _run_cli("-c", str(path))
    assert out.returncode == 2
    assert "0001.png" in out.stderr and "Traceback" not in out.stderr
    assert (tmp_path / "exp" / "bad" / "results" / "d.json").read_text() == good


def test_unreadable_video_is_one_clear_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 1000)
    out = subprocess.run([sys.executable, str(ROOT / "infer.py"), "--arch", "Bicubic",
                          "-i", str(bad), "-o", str(tmp_path / "o.mp4")],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and "broken.mp4" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "o.mp4").exists()


def test_lr_gt_size_mismatch_is_named(tmp_path):
    rng = np.random.default_rng(0)
    write_image(tmp_path / "gt" / "c" / "0000.png", rng.integers(0, 256, (16, 16, 3), np.uint8))
    write_image(tmp_path / "lr" / "c" / "0000.png", rng.integers(0, 256, (5, 4, 3), np.uint8))
    cfg = {"name": "mm", "output_root": str(tmp_path / "exp"),
           "model": {"type": "SupervisedVSR", "arch": {"type": "Bicubic", "scale": 4}},
           "test": {"datasets": {"d": {"type": "VideoFolderTest", "gt_root": str(tmp_path / "gt"),
                                       "lr_root": str(tmp_path / "lr"), "scale": 4}},
                    "metrics": {"PSNR": {"type": "PSNR"}}}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = _run_cli("-c", str(path))
    assert out.returncode == 2 and "0000.png" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("script", ["train.py", "test.py", "infer.py"])
def test_entry_points_show_help(script):
    out = subprocess.run([sys.executable, str(ROOT / script), "--help"], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode == 0 and "usage" in out.stdout


def test_infer_focas_with_gaze_csv_draws_regions(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(3):
        write_image(tmp_path / "lr" / f"{i:04d}.png", rng.integers(0, 256, (20, 30, 3), np.uint8))
    (tmp_path / "gaze.csv").write_text("frame,x,y\n0,10,10\n1,60,40\n2,119,79\n")
    arch = ("{type: FOCAS, num_channels: 8, num_blocks: 2, blocks: [1, 2], "
            "regions: [full, [32, 32]]}")
    code = main(["infer", "--arch", arch, "-i", str(tmp_path / "lr"), "-o", str(tmp_path / "sr"),
                 "--gaze", str(tmp_path / "gaze.csv"), "--draw-gaze"])
    assert code == 0
    from vsr.io.image import read_image

    frame = read_image(tmp_path / "sr" / "00000001.png")
    assert frame.shape == (80, 120, 3) and tuple(frame[40, 60]) == (0, 255, 0)
    assert main(["infer", "--arch", arch, "-i", str(tmp_path / "lr"), "-o",
                 str(tmp_path / "sr2"), "--gaze", "oops,1"]) == 2


def test_foveated_config_on_the_eyetracking_sample_layout(tmp_path):
    """make_eyetracking_sample.py writes the real layout; test.py runs recurrent FOCAS over it
    with each observer's gaze (the FOCAS-25 preset scaled to 72 px high frames) and writes
    per-frame CSVs and a table per (video, observer)."""
    clip = shared_path("data", "clips", "big_buck_bunny_720p_1mb.mp4")
    root = tmp_path / "sample"
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_eyetracking_sample.py"),
                          str(root), "--source", str(clip), "--size", "128x72", "--frames", "5",
                          "--videos", "1", "--observers", "5", "6"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    code = main(["test", "-c", str(ROOT / "configs" / "focas" / "focas25_eyetracking.yaml"),
                 f"test.datasets.HD.root={root}", "test.datasets.HD.frame_size=[72, 128]",
                 f"output_root={tmp_path}", "model.arch.num_channels=8",
                 "test.save_video=true", "test.draw_overlay=true"])
    assert code == 0
    record = json.loads((tmp_path / "focas25_eyetracking" / "results" / "HD.json").read_text())
    assert [c["name"] for c in record["clips"]] == [
        "BigBuckBunny1_s128x72p25n5v0/observer5", "BigBuckBunny1_s128x72p25n5v0/observer6"]
    assert record["averaging"].startswith("mean over frames per 50-frame segment")
    ewpsnr, focas_norm = record["average"]["EWPSNR"], record["average"]["EWPSNR_focas"]
    assert focas_norm - ewpsnr == pytest.approx(10 * np.log10(72 * 128), abs=1e-6)
    rows = (tmp_path / "focas25_eyetracking" / "results" / "HD" /
            "BigBuckBunny1_s128x72p25n5v0" / "observer5.csv").read_text().splitlines()
    assert rows[0] == "frame,model_ms,PSNR,EWPSNR,EWPSNR_focas,FWQI" and len(rows) == 6
    # The SR video of each (video, observer) shows that observer's gaze as a green dot.
    clip = EyeTrackingHD(root, frame_size=(72, 128)).clips()[0]
    video = (tmp_path / "focas25_eyetracking" / "visual" / "HD" /
             "BigBuckBunny1_s128x72p25n5v0" / "observer5.mp4")
    frames = list(VideoReader(video))
    assert len(frames) == 5 and frames[0].shape == (72, 128, 3)
    for frame, (h, w) in zip(frames, clip.conditions["gaze"]):
        r, g, b = frame[min(h, 71), min(w, 127)].astype(int)
        assert g > 180 and r < 90 and b < 90


def test_infer_tiles_precision_and_channels_last(tmp_path):
    """Bicubic x2 on 10x12 LR tiles with 8 px overlap writes the untiled frames exactly; bf16 and
    channels-last run; a malformed --tile and tiles for a gaze-driven arch are refused."""
    from vsr.io.image import read_image

    rng = np.random.default_rng(1)
    for i in range(2):
        write_image(tmp_path / "lr" / f"{i:04d}.png", rng.integers(0, 256, (14, 18, 3), np.uint8))
    common = ["infer", "--arch", "{type: Bicubic, scale: 2}", "-i", str(tmp_path / "lr")]
    assert main([*common, "-o", str(tmp_path / "whole")]) == 0
    assert main([*common, "-o", str(tmp_path / "tiled"), "--tile", "10x12",
                 "--tile-overlap", "8"]) == 0
    assert main([*common, "-o", str(tmp_path / "bf16"), "--tile", "6x8", "--tile-overlap", "2",
                 "--precision", "bf16", "--channels-last"]) == 0
    names = sorted(p.name for p in (tmp_path / "whole").glob("*.png"))
    assert len(names) == 2
    for name in names:
        whole = read_image(tmp_path / "whole" / name)
        assert np.array_equal(read_image(tmp_path / "tiled" / name), whole)
        low = read_image(tmp_path / "bf16" / name).astype(int)
        assert 0 < np.abs(low - whole).max() <= 32  # bf16 rounding and 2-px-overlap seams
    with pytest.raises(SystemExit):
        main([*common, "-o", str(tmp_path / "x"), "--tile", "6,8"])
    assert main([*common, "-o", str(tmp_path / "x"), "--tile", "6x8", "--tile-overlap",
                 "6"]) != 0
    focas = "{type: FOCAS, scale: 2, num_channels: 4, num_blocks: 1, regions: [16, 8, 4]}"
    assert main(["infer", "--arch", focas, "-i", str(tmp_path / "lr"), "-o",
                 str(tmp_path / "f"), "--gaze", "centre", "--tile", "6x8"]) != 0


def test_a_clip_failing_names_clip_and_frame_and_resume_keeps_the_finished_ones(tmp_path,
                                                                                capsys):
    """Clip b's frame 1 is corrupt: clip a's scores are already saved, the error names the clip,
    the output frame it was producing (Bicubic reads a batch ahead) and the file, and after the
    fix ``test --resume`` reuses a and gives the clean run's table."""
    rng = np.random.default_rng(0)
    for clip in ("a", "b"):
        for i in range(3):
            write_image(tmp_path / "gt" / clip / f"{i:04d}.png",
                        rng.integers(0, 256, (16, 16, 3), np.uint8))
    cfg = {"name": "two", "output_root": str(tmp_path / "exp"),
           "model": {"type": "SupervisedVSR", "arch": {"type": "Bicubic", "scale": 4}},
           "test": {"datasets": {"d": {"type": "VideoFolderTest", "gt_root": str(tmp_path / "gt"),
                                       "degradation": {"type": "BI"}, "scale": 4}},
                    "metrics": {"PSNR": {"type": "PSNR"}}}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["test", "-c", str(path)]) == 0
    clean = json.loads((tmp_path / "exp" / "two" / "results" / "d.json").read_text())
    shutil.rmtree(tmp_path / "exp")
    frame = tmp_path / "gt" / "b" / "0001.png"
    good = frame.read_bytes()
    frame.write_bytes(b"\x89PNG broken")
    capsys.readouterr()
    assert main(["test", "-c", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: d/b, producing output frame 0: cannot decode frame ")
    assert "b/0001.png" in err and "rerun with --resume" in err
    saved = tmp_path / "exp" / "two" / "results" / "d" / ".clips"
    assert [p.name for p in saved.iterdir()] == ["a.json"]
    frame.write_bytes(good)
    assert main(["test", "-c", str(path), "--resume"]) == 0
    assert "d/a: scores of the earlier run reused (--resume)" in capsys.readouterr().out
    resumed = json.loads((tmp_path / "exp" / "two" / "results" / "d.json").read_text())
    assert resumed["average"] == clean["average"]
    assert [c["mean"] for c in resumed["clips"]] == [c["mean"] for c in clean["clips"]]
