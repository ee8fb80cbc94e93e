"""The Evaluator end to end under RRN's protocol: a GT-only clip, HR reflect-padded by 8 px,
DUF Gaussian LR made on the fly, RRN streamed with carried state, PSNR/SSIM on Y after the 8-px
crop — equal to RRN/test.py's per-frame values stored in the rrn_3l fixture."""

import json

import pytest
import torch

from tests.archs.test_rrn import rrn_from_fixture
from tests.conftest import load_fixture
from vsr.archs.bicubic import Bicubic
from vsr.data.video_folder import VideoFolderTest
from vsr.engine.evaluator import Evaluator
from vsr.io.image import write_image
from vsr.metrics.psnr_ssim import PSNR, SSIM


def test_rrn_protocol_through_the_evaluator(tmp_path):
    fixture = load_fixture("rrn_3l.pt")
    for t, frame in enumerate(fixture["gt_crop_uint8"].numpy()):
        write_image(tmp_path / "gt" / "calendar" / f"{t:04d}.png", frame)
    dataset = VideoFolderTest(gt_root=tmp_path / "gt", scale=4, degradation={"type": "BD_DUF"},
                              gt_reflect_pad=8)
    metrics = {"PSNR": PSNR(channel="y", crop_border=8), "SSIM": SSIM(channel="y", crop_border=8)}
    evaluator = Evaluator({"Vid4crop": dataset}, metrics, tmp_path / "out", save_images=True)
    with torch.no_grad():
        scores = evaluator.evaluate(rrn_from_fixture(fixture))
    record = json.loads((tmp_path / "out" / "results" / "Vid4crop.json").read_text())
    per_frame = record["clips"][0]["per_frame"]
    assert per_frame["PSNR"] == pytest.approx(fixture["psnr_y_per_frame"], abs=1e-4)
    assert per_frame["SSIM"] == pytest.approx(fixture["ssim_y_per_frame"], abs=1e-5)
    assert scores["Vid4crop"]["PSNR"] == pytest.approx(fixture["psnr_y_avg"], abs=1e-4)
    saved = sorted((tmp_path / "out" / "visual" / "Vid4crop" / "calendar").glob("*.png"))
    assert len(saved) == 5  # SR frames at the padded size, as test.py computes them
    rows = (tmp_path / "out" / "results" / "Vid4crop" / "calendar.csv").read_text().splitlines()
    assert rows[0] == "frame,model_ms,PSNR,SSIM" and len(rows) == 6
    assert float(rows[1].split(",")[2]) == pytest.approx(fixture["psnr_y_per_frame"][0], abs=1e-4)
    assert all(float(r.split(",")[1]) > 0 for r in rows[1:])


def test_gt_reflect_pad_needs_a_degradation(tmp_path):
    with pytest.raises(ValueError, match="gt_reflect_pad"):
        VideoFolderTest(lr_root=tmp_path, gt_root=tmp_path, scale=4, gt_reflect_pad=8)


class _GazeMetric:
    """Records the gaze the evaluator hands to a metric that declares it as a condition."""

    conditions = ("gaze",)

    def __init__(self):
        self.seen = []

    def __call__(self, sr, gt, gaze=None):
        self.seen.append(gaze)
        return 0.0


def test_clip_conditions_reach_the_arch_and_the_metrics_that_declare_them(tmp_path):
    from vsr.archs.focas import FOCAS

    for t in range(3):
        write_image(tmp_path / "gt" / "c" / f"{t:04d}.png",
                    (torch.rand(32, 48, 3) * 255).to(torch.uint8).numpy())
    dataset = VideoFolderTest(gt_root=tmp_path / "gt", scale=4, degradation={"type": "BI"})
    clip = dataset.clips()[0]
    gaze = [(0, 0), (16, 24), (31, 47)]
    clip.conditions = {"gaze": gaze, "unused": [1, 2, 3]}
    dataset.clips = lambda: [clip]
    net = FOCAS(num_channels=8, num_blocks=2, blocks=[1, 2], regions=["full", [16, 16]]).eval()
    calls = []
    original = net.step
    net.step = lambda *a, gaze=None, **k: (calls.append(gaze), original(*a, gaze=gaze, **k))[1]
    metric = _GazeMetric()
    Evaluator({"d": dataset}, {"G": metric}, tmp_path / "out").evaluate(net)
    assert calls == gaze and metric.seen == gaze


def test_metric_needing_a_condition_the_clip_lacks_names_both(tmp_path):
    for t in range(2):
        write_image(tmp_path / "gt" / "c" / f"{t:04d}.png",
                    (torch.rand(16, 16, 3) * 255).to(torch.uint8).numpy())
    dataset = VideoFolderTest(gt_root=tmp_path / "gt", scale=4, degradation={"type": "BI"})
    from vsr.archs.bicubic import Bicubic

    with pytest.raises(ValueError, match=r"metric G needs per-frame \['gaze'\].*d/c"):
        Evaluator({"d": dataset}, {"G": _GazeMetric()}, tmp_path / "out").evaluate(Bicubic(4))


def _tiling_config(tmp_path, test_section: str):
    from vsr.config.experiment import validate_experiment
    from vsr.config.loader import load_config_text

    raw, prov = load_config_text(
        "name: t\nmodel: {type: SupervisedVSR, arch: {type: Bicubic, scale: 4}}\n"
        f"test:\n  datasets:\n    a: {{type: VideoFolderTest, gt_root: {tmp_path / 'gt'}, "
        f"scale: 4, degradation: {{type: BI}}}}\n"
        f"    b: {{type: VideoFolderTest, gt_root: {tmp_path / 'gt'}, scale: 4, "
        f"degradation: {{type: BI}}}}\n  metrics: {{PSNR: {{type: PSNR}}}}\n{test_section}",
        "test.yaml")
    return validate_experiment(raw, prov)


def test_tiles_chunks_and_precision_from_the_config_reach_the_results(tmp_path):
    """Test-wide tiles with 4 px overlap for 'a', a per-dataset override without overlap for 'b',
    bf16 and channels-last for both; each record says what was run."""
    from vsr.engine.builders import build_evaluator

    rng = torch.Generator().manual_seed(0)
    for t in range(2):
        frame = (torch.rand(40, 48, 3, generator=rng) * 255).round().byte().numpy()
        write_image(tmp_path / "gt" / "clip" / f"{t:04d}.png", frame)
    cfg = _tiling_config(tmp_path, "  tile: {size: [6, 8], overlap: 4}\n"
                         "  chunk: {frames: 8, overlap: 2, policy: blend}\n"
                         "  per_dataset: {b: {tile: {size: [6, 8], overlap: 0}}}\n"
                         "  precision: bf16\n  channels_last: true\n")
    evaluator = build_evaluator(cfg.test, tmp_path / "out", "cpu", log=lambda _: None)
    scores = evaluator.evaluate(Bicubic(4))
    whole = Evaluator(evaluator.datasets, evaluator.metrics, tmp_path / "whole",
                      log=lambda _: None).evaluate(Bicubic(4))
    record = json.loads((tmp_path / "out" / "results" / "a.json").read_text())
    assert record["inference"] == {"precision": "bf16", "channels_last": True,
                                   "tile": {"size": [6, 8], "overlap": 4},
                                   "chunk": {"frames": 8, "overlap": 2, "policy": "blend"},
                                   "sequence_start": None}
    other = json.loads((tmp_path / "out" / "results" / "b.json").read_text())
    assert other["inference"]["tile"] == {"size": [6, 8], "overlap": 0}
    markdown = (tmp_path / "out" / "results" / "a.md").read_text()
    assert ("- inference: bf16, channels-last, 6x8 LR tiles, overlap 4 px, clip chunks of 8 "
            "frames overlapping 2 (blend)") in markdown
    # bf16 costs little; seams without overlap cost more than with it
    assert abs(scores["a"]["PSNR"] - whole["a"]["PSNR"]) < 0.5
    assert abs(scores["b"]["PSNR"] - whole["b"]["PSNR"]) > abs(scores["a"]["PSNR"]
                                                               - whole["a"]["PSNR"])


def test_bad_tiling_config_is_one_error_naming_the_key(tmp_path):
    from vsr.config.loader import ConfigError
    from vsr.engine.builders import build_evaluator

    write_image(tmp_path / "gt" / "clip" / "0000.png", torch.zeros(8, 8, 3).byte().numpy())
    cfg = _tiling_config(tmp_path, "  per_dataset: {c: {chunk: {frames: 4}}}\n")
    with pytest.raises(ConfigError, match="test.per_dataset.c: no such test dataset"):
        build_evaluator(cfg.test, tmp_path / "out", "cpu")
    cfg = _tiling_config(tmp_path, "  tile: {size: [8, 8], overlap: 8}\n")
    with pytest.raises(ConfigError, match=r"test.tile: tile overlap must be in \[0, 8\)"):
        build_evaluator(cfg.test, tmp_path / "out", "cpu")
    cfg = _tiling_config(tmp_path, "  chunk: {frames: 4, overlap: 3}\n")
    with pytest.raises(ConfigError, match="test.chunk: chunk overlap"):
        build_evaluator(cfg.test, tmp_path / "out", "cpu")


def test_sequence_start_from_the_test_config_reaches_the_stream(tmp_path):
    """test.sequence_start (here per dataset) runs each clip as SequenceStart says, and the
    results record it."""
    import json

    from tests.archs.test_sequence import RecurrentNet
    from vsr.archs.sequence import SequenceStart, run_clip
    from vsr.config.experiment import TestCfg
    from vsr.config.loader import Provenance
    from vsr.config.schema import build_dataclass
    from vsr.engine.builders import build_evaluator
    from vsr.io.image import read_image

    for t in range(4):
        write_image(tmp_path / "lr" / "c" / f"{t:04d}.png",
                    (torch.rand(6, 7, 3) * 255).to(torch.uint8).numpy())
    spec = {"datasets": {"d": {"type": "VideoFolderTest", "lr_root": str(tmp_path / "lr"),
                               "scale": 2}},
            "save_images": True, "per_dataset": {"d": {"sequence_start": {"reflect_pad": 2}}}}
    test = build_dataclass(TestCfg, spec, "test", Provenance())
    net = RecurrentNet("zeros").eval()
    build_evaluator(test, tmp_path / "out", "cpu", log=lambda _: None).evaluate(net)
    lr = torch.stack([torch.from_numpy(read_image(tmp_path / "lr" / "c" / f"{t:04d}.png"))
                      .permute(2, 0, 1).float() / 255 for t in range(4)])[None]
    expected = run_clip(net, lr, start=SequenceStart(reflect_pad=2))[0]
    for t in range(4):
        saved = read_image(tmp_path / "out" / "visual" / "d" / "c" / f"{t:08d}.png")
        want = (expected[t].clamp(0, 1) * 255).round().permute(1, 2, 0).to(torch.uint8)
        assert (torch.from_numpy(saved).int() - want.int()).abs().max() <= 1
    assert not torch.allclose(expected, run_clip(net, lr)[0], atol=1e-2)
    record = json.loads((tmp_path / "out" / "results" / "d.json").read_text())
    assert record["inference"]["sequence_start"] == {"reflect_pad": 2, "mirror": False}
