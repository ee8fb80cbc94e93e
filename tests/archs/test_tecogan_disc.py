"""TecoGAN's spatio-temporal discriminator against tecogan_disc.pt: VSRGANModel.train's real and
fake passes on a ping-pong clip, with the generator's flows (FRNet, frvsr_bd weights)."""

from __future__ import annotations

import pytest
import torch

from tests.archs.weight_recipe import recipe_state_dict
from tests.conftest import load_fixture
from vsr.archs.frvsr import FRNet
from vsr.archs.sequence import run_clip_with_extras
from vsr.archs.tecogan_disc import (
    SpatioTemporalDiscriminator,
    pingpong_triplet_flows,
    triplet_flows,
)

PINGPONG = [0, 1, 2, 1, 0]
ATOL_LOGIT, ATOL_FEATS, ATOL_FLOW, ATOL_HR = 2e-5, 1e-4, 1e-5, 5e-5


@pytest.fixture(scope="module")
def disc() -> dict:
    return load_fixture("tecogan_disc.pt")


@pytest.fixture(scope="module")
def run(disc: dict) -> dict:
    """The generator's pass on the ping-pong LR clip, and the D inputs derived from it."""
    weights = load_fixture("frvsr_bd.pt")
    generator = FRNet(4, "BD")
    generator.load_state_dict(recipe_state_dict(weights["state_dict_keys"],
                                                const_buffers=weights["const_buffers"]))
    lr = disc["lr"][:, PINGPONG]
    with torch.no_grad():
        hr, extras = run_clip_with_extras(generator.train(), lr)
    gt = disc["gt_with_border_uint8"].permute(0, 3, 1, 2).float() / 255
    return {"generator": generator, "lr": lr, "hr": hr, "hr_flow": extras["hr_flow"],
            "gt": gt[None, PINGPONG, :, 4:-4, 4:-4]}


def _discriminator(disc: dict) -> tuple[SpatioTemporalDiscriminator, dict]:
    ctor = disc["constructor"]
    assert ctor["tempo_range"] == 3
    model = SpatioTemporalDiscriminator(ctor["spatial_size"], ctor["scale"],
                                        ctor["degradation"])
    weights = recipe_state_dict(disc["state_dict_keys"], own=model.state_dict(),
                                const_buffers=disc["const_buffers"])
    model.load_state_dict(weights)
    return model, weights


def test_state_dict_keys_are_the_originals_in_order(disc: dict) -> None:
    model, _ = _discriminator(disc)
    expected = [(k, tuple(shape)) for k, shape, _, _ in disc["state_dict_keys"]]
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == expected


def test_generator_outputs_and_pingpong_flows(disc: dict, run: dict) -> None:
    torch.testing.assert_close(run["hr"][:, :3], disc["hr_data_first3"], rtol=0, atol=ATOL_HR)
    torch.testing.assert_close(run["hr_flow"][:, 1:], disc["hr_flow"], rtol=0, atol=ATOL_HR)
    flows = pingpong_triplet_flows(run["hr_flow"])
    assert flows.shape == (1, 3, 2, 64, 64) and not flows.requires_grad
    torch.testing.assert_close(flows[0], disc["hr_flow_merge"], rtol=0, atol=ATOL_FLOW)
    model, _ = _discriminator(disc)
    torch.testing.assert_close(model.condition(run["lr"])[:, :3], disc["bi_data_first3"],
                               rtol=0, atol=1e-6)


def test_train_mode_real_then_fake_pass(disc: dict, run: dict) -> None:
    model, _ = _discriminator(disc)
    flows = pingpong_triplet_flows(run["hr_flow"])
    with torch.no_grad():
        real, real_feats = model.train()(run["gt"], run["lr"], flows)
        fake, fake_feats = model(run["hr"], run["lr"], flows)
    torch.testing.assert_close(real, disc["real_logit"], rtol=0, atol=ATOL_LOGIT)
    torch.testing.assert_close(fake, disc["fake_logit"], rtol=0, atol=ATOL_LOGIT)
    for ours, theirs in zip(real_feats + fake_feats, disc["real_feats"] + disc["fake_feats"],
                            strict=True):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=ATOL_FEATS)
    state = model.state_dict()
    for key, value in disc["running_stats_after_two_train_passes"].items():
        torch.testing.assert_close(state[key], value, rtol=0, atol=1e-5)
    # the fixture's eval logits use the running stats those two passes left (not the recipe's)
    with torch.no_grad():
        real_eval, _ = model.eval()(run["gt"], run["lr"], flows)
        fake_eval, _ = model(run["hr"], run["lr"], flows)
    torch.testing.assert_close(real_eval, disc["real_logit_eval"], rtol=0, atol=ATOL_LOGIT)
    torch.testing.assert_close(fake_eval, disc["fake_logit_eval"], rtol=0, atol=ATOL_LOGIT)


def test_without_pingpong_fnet_gives_the_forward_flows(disc: dict, run: dict) -> None:
    clip = disc["lr"]  # the plain 3-frame clip
    flows = triplet_flows(run["generator"], clip, run["hr_flow"][:, :3])
    torch.testing.assert_close(flows, pingpong_triplet_flows(run["hr_flow"]), rtol=0,
                               atol=ATOL_FLOW)
    model, _ = _discriminator(disc)
    with torch.no_grad():
        real, _ = model.train()(run["gt"][:, :3], clip, flows)
        fake, _ = model(run["hr"][:, :3], clip, flows)
    torch.testing.assert_close(real, disc["nopp_real_logit"], rtol=0, atol=ATOL_LOGIT)
    torch.testing.assert_close(fake, disc["nopp_fake_logit"], rtol=0, atol=ATOL_LOGIT)


def test_warped_triplet_border_is_zeroed_and_channels_are_colour_major() -> None:
    """With zero flows the warped part equals the frames inside the 0.75 crop and is zero outside;
    a change in one frame's red channel moves only that triplet slot's channels."""
    model = SpatioTemporalDiscriminator(32, 4, "BI").eval()
    captured = {}
    model.conv_in.register_forward_hook(lambda m, args, out: captured.update(x=args[0]))
    hr, lr = torch.rand(1, 3, 3, 32, 32), torch.rand(1, 3, 3, 8, 8)
    with torch.no_grad():
        model(hr, lr, torch.zeros(1, 3, 2, 32, 32))
    x = captured["x"]
    assert x.shape == (1, 27, 32, 32)
    torch.testing.assert_close(x[0, 0:3], hr[0, :, 0], rtol=0, atol=0)  # r of frames 0, 1, 2
    torch.testing.assert_close(x[0, 3:6], hr[0, :, 1], rtol=0, atol=0)  # then g
    warped = x[0, 9:18]
    torch.testing.assert_close(warped[:, 4:28, 4:28], x[0, 0:9, 4:28, 4:28], rtol=0, atol=1e-5)
    assert not warped[:, :4].any() and not warped[:, 28:].any()
    assert not warped[:, :, :4].any() and not warped[:, :, 28:].any()


def test_bad_shapes_are_refused() -> None:
    model = SpatioTemporalDiscriminator(32, 4, "BD")
    lr = torch.rand(1, 3, 3, 8, 8)
    with pytest.raises(ValueError, match="built for 32x32 HR crops"):
        model(torch.rand(1, 3, 3, 64, 64), lr, torch.zeros(1, 3, 2, 64, 64))
    with pytest.raises(ValueError, match="at least 3 frames, got 2"):
        pingpong_triplet_flows(torch.zeros(1, 2, 2, 32, 32))
    with pytest.raises(ValueError, match="multiple of 16"):
        SpatioTemporalDiscriminator(40)


def test_dense_size_and_parameters_follow_the_crop() -> None:
    model = SpatioTemporalDiscriminator(128)
    assert model.dense.in_features == 16384  # 256 * (128 / 16)^2
    params = sum(p.numel() for p in model.parameters())
    assert params == 819_457 and round(params / 1e6, 2) == 0.82  # MODELS.md 3.2
