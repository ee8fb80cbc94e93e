"""TecoGAN's warping, ping-pong, GAN and VGG feature losses against independent computations."""

import math

import pytest
import torch
import torch.nn.functional as F

from vsr.config.experiment import validate_experiment
from vsr.config.loader import ConfigError, Provenance
from vsr.losses.feature import VGGFeatureLoss, vgg19_features
from vsr.losses.tecogan import GANLoss, PingPongLoss, WarpingLoss, adaptive_distance, pingpong


def _charb(a, b):
    return torch.sqrt((a - b) ** 2 + 1e-6).mean()


def test_warping_loss_on_integer_shift_is_exact_and_skips_frame_zero():
    torch.manual_seed(0)
    lr = torch.rand(1, 3, 3, 12, 12)
    flow = torch.zeros(1, 3, 2, 12, 12)
    flow[:, :, 0] = 1.0  # sample one pixel to the right
    flow[:, 0] = 99.0  # frame 0's flow is never used
    prev = lr[:, :-1].flatten(0, 1)
    shifted = torch.cat([prev[..., 1:], prev[..., -1:]], dim=-1)  # border padding
    expected = 2.0 * _charb(shifted, lr[:, 1:].flatten(0, 1))
    assert WarpingLoss(weight=2.0)(lr, flow).item() == pytest.approx(expected.item(), rel=1e-6)


def test_pingpong_sequence_and_loss():
    clip = torch.arange(4.0).view(1, 4, 1, 1, 1)
    assert pingpong(clip).flatten().tolist() == [0, 1, 2, 3, 2, 1, 0]
    hr = torch.rand(2, 7, 3, 4, 4)
    expected = 0.5 * _charb(hr[:, :3], torch.stack([hr[:, 6], hr[:, 5], hr[:, 4]], 1))
    assert PingPongLoss()(hr).item() == pytest.approx(expected.item(), rel=1e-6)
    assert PingPongLoss()(pingpong(hr[:, :4])).item() == pytest.approx(0.5 * 1e-3, rel=1e-4)
    with pytest.raises(ValueError, match="2T-1"):
        PingPongLoss()(hr[:, :6])


def test_gan_losses_and_adaptive_distance():
    real, fake = torch.tensor([[2.0], [0.5]]), torch.tensor([[-1.0], [0.3]])
    sp = lambda x: math.log1p(math.exp(x))  # noqa: E731
    g = 0.01 * (sp(1.0) + sp(-0.3)) / 2
    d = (sp(-2.0) + sp(-0.5)) / 2 + (sp(-1.0) + sp(0.3)) / 2
    loss = GANLoss()
    assert loss.generator(fake).item() == pytest.approx(g, rel=1e-6)
    assert loss.discriminator(real, fake).item() == pytest.approx(d, rel=1e-6)
    ls = lambda r: math.log(1 / (1 + math.exp(-r)) + 1e-8)  # noqa: E731
    dist = (ls(2.0) + ls(0.5)) / 2 - (ls(-1.0) + ls(0.3)) / 2
    assert adaptive_distance(real, fake) == pytest.approx(dist, rel=1e-6)


def test_vgg19_layout_and_feature_loss_formula(tmp_path):
    torch.manual_seed(1)
    feats = vgg19_features(35)
    convs = [i for i, m in enumerate(feats) if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 16 and convs[-1] == 34 and isinstance(feats[35], torch.nn.ReLU)
    state = {f"features.{k}": v for k, v in feats.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # torchvision's file has these too
    path = tmp_path / "vgg19.pth"
    torch.save(state, path)
    loss = VGGFeatureLoss(str(path), layers=(3, 8), weight=0.2)
    sr, gt = torch.rand(1, 2, 3, 16, 16), torch.rand(1, 2, 3, 16, 16)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    w = dict(feats.named_parameters())

    def ref_feats(x):  # independent: functional convs with the saved weights
        x = (x - mean) / std
        r1 = F.relu(F.conv2d(x, w["0.weight"], w["0.bias"], padding=1))
        r2 = F.relu(F.conv2d(r1, w["2.weight"], w["2.bias"], padding=1))
        p = F.max_pool2d(r2, 2)
        r3 = F.relu(F.conv2d(p, w["5.weight"], w["5.bias"], padding=1))
        r4 = F.relu(F.conv2d(r3, w["7.weight"], w["7.bias"], padding=1))
        return [r2, r4]

    a, b = ref_feats(sr.flatten(0, 1)), ref_feats(gt.flatten(0, 1))
    expected = 0.0
    for fa, fb in zip(a, b):
        cos = (fa * fb).sum(1) / (fa.norm(dim=1) * fb.norm(dim=1)).clamp_min(1e-8)
        expected += 1 - cos.mean().item()
    assert loss(sr, gt).item() == pytest.approx(0.2 * expected, rel=1e-5)
    assert not any(p.requires_grad for p in loss.features.parameters())


def test_missing_vgg_file_names_the_config_key(tmp_path):
    raw = {"name": "x", "model": {"type": "TecoGANModel", "arch": {"type": "FRNet"},
                                  "discriminator": {"type": "SpatioTemporalDiscriminator"},
                                  "feature": {"type": "VGGFeatureLoss",
                                              "weights": str(tmp_path / "nope.pth")}}}
    with pytest.raises(ConfigError, match=r"'model\.feature\.weights': VGG19 ImageNet weights"):
        validate_experiment(raw, Provenance())
