"""LPIPS (AlexNet-lin v0.1) against an independent computation of its formula, with the real
LPIPS linear weights and a seeded AlexNet backbone (no ImageNet weights here), and tLP."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import yaml

from tests.conftest import shared_path
from vsr.config.experiment import load_experiment
from vsr.config.loader import ConfigError
from vsr.metrics.lpips import LPIPS, TLP

CONVS = {0: (64, 3, 11), 3: (192, 64, 5), 6: (384, 192, 3), 8: (256, 384, 3), 10: (256, 256, 3)}


@pytest.fixture
def weights(tmp_path):
    gen = torch.Generator().manual_seed(0)
    state = {}
    for index, (out, inp, k) in CONVS.items():
        state[f"features.{index}.weight"] = torch.randn(out, inp, k, k, generator=gen) * (
            2 / (inp * k * k)) ** 0.5
        state[f"features.{index}.bias"] = torch.randn(out, generator=gen) * 0.01
    state["classifier.1.weight"] = torch.zeros(4, 9216)  # torchvision's file holds it too
    torch.save(state, tmp_path / "alexnet.pth")
    return str(tmp_path / "alexnet.pth"), str(shared_path("data", "weights", "lpips_v0.1",
                                                           "alex.pth")), state


def independent_lpips(x: torch.Tensor, y: torch.Tensor, backbone: dict, lin: dict) -> float:
    """Zhang et al.'s formula written out: shift/scale, AlexNet relu1..relu5, channel-normalise,
    squared difference, 1x1 linear weights, spatial mean, sum over layers."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
    feats = []
    for image in (x, y):
        h = (image[None] * 2 - 1 - shift) / scale
        taps = []
        for index in CONVS:
            if index in (3, 6):
                h = F.max_pool2d(h, kernel_size=3, stride=2)
            stride, pad = (4, 2) if index == 0 else (1, 2 if index == 3 else 1)
            h = F.relu(F.conv2d(h, backbone[f"features.{index}.weight"],
                                backbone[f"features.{index}.bias"], stride, pad))
            taps.append(h / (h.norm(dim=1, keepdim=True) + 1e-10))
        feats.append(taps)
    total = 0.0
    for layer, (a, b) in enumerate(zip(*feats)):
        w = lin[f"lin{layer}.model.1.weight"].flatten()
        total += float(((a - b) ** 2 * w.view(1, -1, 1, 1)).sum(dim=1).mean())
    return total


def test_lpips_is_the_formula_and_zero_on_equal_frames(weights):
    backbone, lin, state = weights
    metric = LPIPS(backbone, lin, channel="rgb")
    gen = torch.Generator().manual_seed(1)
    gt = torch.rand(3, 96, 112, generator=gen)
    sr = (gt + 0.1 * torch.randn(3, 96, 112, generator=gen)).clamp(0, 1)
    lin_state = torch.load(lin, weights_only=True, map_location="cpu")
    expected = independent_lpips(sr, gt, state, lin_state)
    value = metric.frame(sr, gt, None, None)
    assert expected > 0 and abs(value - expected) < 1e-5 * expected
    assert metric.frame(gt, gt, None, None) == 0.0
    assert abs(metric.frame(gt, sr, None, None) - value) < 1e-6  # symmetric


def test_tlp_is_100_times_the_lpips_change_of_scored_pairs(weights):
    backbone, lin, _ = weights
    gen = torch.Generator().manual_seed(2)
    gt = [torch.rand(3, 64, 80, generator=gen) for _ in range(4)]
    sr = [(g + 0.05 * torch.randn(3, 64, 80, generator=gen)).clamp(0, 1) for g in gt]
    tlp, lpips = TLP(backbone, lin, channel="rgb", skip_first=1), LPIPS(backbone, lin,
                                                                        channel="rgb")
    tlp.begin_clip()
    values = [tlp.frame(sr[t], gt[t], sr[t - 1], gt[t - 1]) for t in (1, 2, 3)]
    assert values[0] is None  # frame 0 was cut: no pair ends at frame 1
    for t in (2, 3):
        change = lpips.frame(gt[t - 1], gt[t], None, None) - lpips.frame(sr[t - 1], sr[t], None,
                                                                         None)
        assert abs(values[t - 1] - 100 * abs(change)) < 1e-4
    with pytest.raises(ValueError, match="channel must be 'rgb'"):
        LPIPS(backbone, lin, channel="y")


def test_a_missing_backbone_file_names_the_config_key(tmp_path, weights):
    _, lin, _ = weights
    cfg = {"name": "x", "model": {"type": "SupervisedVSR", "arch": {"type": "Bicubic"}},
           "test": {"datasets": {"d": {"type": "VideoFolderTest", "gt_root": str(tmp_path),
                                       "degradation": "BI", "scale": 4}},
                    "metrics": {"LPIPS": {"type": "LPIPS", "backbone": str(tmp_path / "no.pth"),
                                          "lin": lin, "channel": "rgb"}}}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match=r"'test.metrics.LPIPS.backbone': AlexNet ImageNet "
                                          r"weights \(torchvision layout\) not found"):
        load_experiment(path)


def test_the_tecogan_lpips_fragment_adds_lpips_and_tlp_under_the_protocol(tmp_path, weights):
    """configs/_base_/tecogan_lpips.yaml on top of the FRVSR Vid4 config: the TecoGAN table's
    five metrics, LPIPS/tLP on RGB with the protocol's rounding, crop and cut frames."""
    from pathlib import Path

    from vsr.registry import METRICS

    backbone, lin, _ = weights
    configs = Path(__file__).resolve().parents[2] / "configs"
    path = tmp_path / "lpips.yaml"
    path.write_text(yaml.safe_dump({"_base_": [
        str(configs / "frvsr" / "frvsr_x4_vid4_bd_tecogan.yaml"),
        str(configs / "_base_" / "tecogan_lpips.yaml")]}))
    keys = [f"test.metrics.{m}.{k}={v}" for m in ("LPIPS", "tLP")
            for k, v in (("backbone", backbone), ("lin", lin))]
    metrics = load_experiment(path, keys, check_paths=False).test.metrics
    assert list(metrics) == ["PSNR", "SSIM", "tOF", "LPIPS", "tLP"]
    for name in ("LPIPS", "tLP"):
        protocol = METRICS.build(metrics[name]).protocol
        assert (protocol.channel, protocol.round_to_8bit, protocol.crop_8x8, protocol.skip_first,
                protocol.skip_last) == ("rgb", True, True, 2, 2)
    with pytest.raises(ConfigError, match=r"'test.metrics.LPIPS.backbone': AlexNet ImageNet"):
        load_experiment(path, keys[2:])
