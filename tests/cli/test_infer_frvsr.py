"""``vsr infer`` with the FRVSR config on real LR frames (frvsr_bd_infer.pt's 22x30 calendar crop,
recipe weights saved in the release layout) gives TecoGAN-PyTorch's official test output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tests.archs.test_frvsr import recipe_weights
from tests.conftest import load_fixture
from vsr.cli.main import main
from vsr.io.image import list_frames, read_image, write_image

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "frvsr" / "frvsr_x4_vid4_bd_tecogan.yaml"


def test_infer_frvsr_config_reproduces_the_official_uint8_frames(tmp_path) -> None:
    fixture = load_fixture("frvsr_bd_infer.pt")
    lr = (fixture["lr_thwc"].numpy() * 255).round().astype(np.uint8)  # the PNG values
    for t, frame in enumerate(lr):
        write_image(tmp_path / "lr" / f"{t:04d}.png", frame)
    weights = tmp_path / "FRVSR_BD_iter400000.pth"
    torch.save(recipe_weights(fixture), weights)
    code = main(["infer", "-c", str(CONFIG), "--weights", str(weights), "--device", "cpu",
                 "-i", str(tmp_path / "lr"), "-o", str(tmp_path / "sr")])
    assert code == 0
    frames = list_frames(tmp_path / "sr")
    assert len(frames) == 6  # the 5 reflected start frames are not written
    sr = np.stack([read_image(p) for p in frames]).astype(int)
    off = np.abs(sr - fixture["hr_seq_uint8"].numpy().astype(int))
    assert off.max() <= 1 and (off > 0).sum() <= 0.001 * off.size
