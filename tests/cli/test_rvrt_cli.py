"""A small RVRT (random weights saved in the release layout: the released files are not here)
through ``vsr test`` on Vid4 calendar (3 cropped frames, spatial tiles) and ``vsr infer`` on the
Big Buck Bunny mp4 (--max-frames, tiles)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import yaml

from tests.conftest import bunny_crop_mp4, shared_path
from vsr.cli.main import main
from vsr.io.color import rgb_to_y
from vsr.io.image import list_frames, read_image, write_image
from vsr.io.video import VideoReader
from vsr.metrics.psnr_ssim import psnr
from vsr.registry import ARCHS

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"type": "RVRT", "scale": 4, "embed_dim": 12, "num_heads": 2, "deformable_groups": 4,
         "attention_heads": 4, "num_blocks": [1, 1, 1], "pad_multiple": 8}


def release_file(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "002_RVRT_videosr_bi_Vimeo_14frames.pth"
    torch.save({"params": ARCHS.build(dict(SMALL)).state_dict()}, path)
    return path


def small_config(tmp_path: Path, base: str, extra: dict) -> Path:
    cfg = {"_base_": str(ROOT / "configs" / "rvrt" / base), "device": "cpu",
           "output_root": str(tmp_path / "out"), "model": {"arch": SMALL}, **extra}
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_vsr_test_on_vid4_tiled_scores_its_own_frames(tmp_path: Path, capsys) -> None:
    calendar = shared_path("data", "Vid4", "GT", "calendar")
    for k in range(3):  # 3 frames (odd: the arch mirrors the tail), 72x88 HR crop
        write_image(tmp_path / "data" / "Vid4" / "GT" / "calendar" / f"{k:04d}.png",
                    read_image(calendar / f"{k:04d}.png")[:72, :88])
    config = small_config(tmp_path, "rvrt_x4_vid4_bi.yaml", {
        "data_root": str(tmp_path / "data"),
        "test": {"tile": {"size": [12, 16], "overlap": 4}, "save_images": True}})
    code = main(["test", "-c", str(config), "--weights", str(release_file(tmp_path)),
                 "--name", "rvrt_small"])
    assert code == 0
    reported = yaml.safe_load(capsys.readouterr().out.split("results:")[-1].join(
        ["results:", ""]))["results"]["Vid4"]["PSNR"]
    srs = sorted((tmp_path / "out").rglob("calendar/*.png"))
    assert len(srs) == 3
    values = []
    for k, path in enumerate(srs):
        sr = torch.from_numpy(read_image(path)).permute(2, 0, 1).double()
        gt = torch.from_numpy(read_image(tmp_path / "data" / "Vid4" / "GT" / "calendar" /
                                         f"{k:04d}.png")).permute(2, 0, 1).double()
        values.append(psnr(rgb_to_y(sr), rgb_to_y(gt)))
    assert math.isfinite(reported) and abs(reported - float(np.mean(values))) < 1e-6


def test_vsr_infer_on_an_mp4_tiled(tmp_path: Path) -> None:
    """A 40x56 crop of the Big Buck Bunny clip re-encoded as mp4 (the 720p original takes
    minutes per frame on CPU), its first 3 of 6 frames, tiled; the SR is within a few dB of
    the ×4 bilinear that RVRT adds its residual to, as random weights leave it."""
    video = bunny_crop_mp4(tmp_path / "crop.mp4", slice(300, 340), slice(600, 656), 6)
    config = small_config(tmp_path, "rvrt_x4_vid4_bi.yaml", {})
    code = main(["infer", "-c", str(config), "--weights", str(release_file(tmp_path)),
                 "--device", "cpu", "-i", str(video), "-o", str(tmp_path / "sr"),
                 "--max-frames", "3", "--tile", "16x24", "--tile-overlap", "4"])
    assert code == 0
    frames = list_frames(tmp_path / "sr")
    assert len(frames) == 3
    lr = torch.from_numpy(next(iter(VideoReader(video)))).permute(2, 0, 1)[None].float() / 255
    base = torch.nn.functional.interpolate(lr, scale_factor=4, mode="bilinear") * 255
    sr = torch.from_numpy(read_image(frames[0])).permute(2, 0, 1)[None].float()
    assert sr.shape == (1, 3, 160, 224)
    assert 15 < psnr(sr, base.clamp(0, 255)) < 60
