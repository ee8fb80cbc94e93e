"""``Evaluator.score_outputs``: SR frames saved by ``evaluate`` and read back score exactly as they
did when the model produced them (same loop, metrics, skipped frames, temporal pairs), and the
results files say that no model ran."""

import json

import numpy as np
import pytest
import torch

from vsr.archs.bicubic import Bicubic
from vsr.data.output_pairs import OutputPairs
from vsr.data.video_folder import VideoFolderTest
from vsr.engine.evaluator import Evaluator
from vsr.io.image import write_image
from vsr.metrics.protocol import Averaging
from vsr.metrics.psnr_ssim import PSNR
from vsr.metrics.tecogan import TOF

CUT = dict(round_to_8bit=True, crop_8x8=True, skip_first=1, skip_last=1)


def _metrics():
    return {"PSNR": PSNR(channel="y", y_formula="duf", **CUT), "tOF": TOF(**CUT)}


@pytest.mark.parametrize("averaging", ["clip", "frame"])
def test_saved_outputs_score_as_the_model_run_did(tmp_path, averaging):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (72, 84, 3)).astype(np.int16)
    for clip, frames in (("a", 5), ("b", 4)):
        for t in range(frames):  # a moving pattern, so that tOF is not zero
            frame = np.roll(base, 2 * t, axis=1) + rng.integers(-8, 9, base.shape)
            write_image(tmp_path / "gt" / clip / f"{t:04d}.png",
                        np.clip(frame, 0, 255).astype(np.uint8))
    dataset = VideoFolderTest(gt_root=tmp_path / "gt", scale=4, degradation={"type": "BI"})
    pooled = Averaging(averaging)
    model_run = Evaluator({"d": dataset}, _metrics(), tmp_path / "run", save_images=True,
                          averaging=pooled)
    with torch.no_grad():
        expected = model_run.evaluate(Bicubic(scale=4))
    pairs = OutputPairs(tmp_path / "run" / "visual" / "d", tmp_path / "gt")
    assert [c.pairing for c in pairs.clips()] == ["sorted order"] * 2  # 00000000.png vs 0000.png
    scored = Evaluator({"d": pairs}, _metrics(), tmp_path / "eval", averaging=pooled)
    assert scored.score_outputs() == expected
    ran = json.loads((tmp_path / "run" / "results" / "d.json").read_text())
    saved = json.loads((tmp_path / "eval" / "results" / "d.json").read_text())
    assert [c["per_frame"] for c in saved["clips"]] == [c["per_frame"] for c in ran["clips"]]
    tof = saved["clips"][0]["per_frame"]["tOF"]  # frame 0 cut, frame 1 has no scored previous
    assert tof[:2] == [None, None] and tof[2] > 0.1 and tof[-1] is None
    assert saved["inference"] is None and ran["inference"] is not None
    rows = (tmp_path / "eval" / "results" / "d" / "a.csv").read_text().splitlines()
    assert len(rows) == 6 and rows[1] == "0,,," and rows[2].startswith("1,,")
    table = (tmp_path / "eval" / "results" / "d.md").read_text()
    assert "outputs scored as saved (no model run here)" in table
    assert "| a | 5 | – |" in table
