"""FRNet (FRVSR/TecoGAN generator) against TecoGAN-PyTorch's training forward (frvsr_bd/bi) and
its official inference flow (frvsr_bd_infer/bi_infer), through the engine's recurrent loops."""

from __future__ import annotations

import pytest
import torch

from tests.archs.weight_recipe import recipe_state_dict
from tests.conftest import load_fixture
from vsr.archs.frvsr import FRNet
from vsr.archs.sequence import SequenceStart, run_clip, run_clip_with_extras, sequence_start, stream
from vsr.registry import ARCHS

ATOL_HR, ATOL_LR_FLOW, ATOL_INFER = 5e-5, 1e-5, 5e-5


def recipe_weights(fixture: dict) -> dict[str, torch.Tensor]:
    """The recipe weights; the infer fixtures store no ``const_buffers``, so their upsampler
    kernels come from the module (checked against tecogan_ops.pt)."""
    ctor = fixture["constructor"]
    constants = fixture.get("const_buffers") or FRNet(ctor["scale"], ctor["degradation"],
                                                      num_blocks=1).state_dict()
    return recipe_state_dict(fixture["state_dict_keys"], const_buffers=constants)


def frnet_from_fixture(fixture: dict) -> FRNet:
    ctor = fixture["constructor"]
    model = FRNet(ctor["scale"], ctor["degradation"], ctor["nf"], ctor["nb"])
    model.load_state_dict(recipe_weights(fixture))
    return model


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """TecoGAN's float32_to_uint8: round, clip, cast."""
    return (x * 255).round().clamp(0, 255).to(torch.uint8)


@pytest.mark.parametrize("name", ["frvsr_bd.pt", "frvsr_bi.pt"])
def test_state_dict_keys_are_the_originals_in_order(name: str) -> None:
    fixture = load_fixture(name)
    ctor = fixture["constructor"]
    model = FRNet(ctor["scale"], ctor["degradation"])
    expected = [(k, tuple(shape)) for k, shape, _, _ in fixture["state_dict_keys"]]
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == expected


@pytest.mark.parametrize("name", ["frvsr_bd.pt", "frvsr_bi.pt"])
def test_training_clip_matches_forward_sequence(name: str) -> None:
    fixture = load_fixture(name)
    model = frnet_from_fixture(fixture).train()
    with torch.no_grad():
        hr, extras = run_clip_with_extras(model, fixture["lr_data"])
    torch.testing.assert_close(hr, fixture["hr_data"], rtol=0, atol=ATOL_HR)
    # the original returns flows of frames 1..T-1; frame 0 has none and its flows are zero
    torch.testing.assert_close(extras["hr_flow"][:, 1:], fixture["hr_flow"], rtol=0, atol=ATOL_HR)
    torch.testing.assert_close(extras["lr_flow"][0, 1:], fixture["lr_flow"], rtol=0,
                               atol=ATOL_LR_FLOW)
    assert not extras["hr_flow"][:, 0].any() and not extras["lr_flow"][:, 0].any()


@pytest.mark.parametrize("name", ["frvsr_bd_infer.pt", "frvsr_bi_infer.pt"])
def test_inference_matches_the_official_test_flow(name: str) -> None:
    """5 reflected frames prepended and dropped (the arch's declared start), LR flow reflect-padded
    to the 22x30 frame, zero initial state; streamed and whole-clip runs agree."""
    fixture = load_fixture(name)
    assert fixture["test_options"] == {"padding_mode": "reflect", "num_pad_front": 5}
    model = frnet_from_fixture(fixture).eval()
    lr = fixture["lr_thwc"].permute(0, 3, 1, 2)
    streamed = torch.stack(list(stream(model, iter(lr))))
    torch.testing.assert_close(streamed, fixture["hr_float_kept"], rtol=0, atol=ATOL_INFER)
    with torch.no_grad():
        whole = run_clip(model, lr[None], start=sequence_start(model))[0]
    torch.testing.assert_close(whole, fixture["hr_float_kept"], rtol=0, atol=ATOL_INFER)
    off = (to_uint8(streamed).permute(0, 2, 3, 1).int() - fixture["hr_seq_uint8"].int()).abs()
    assert off.max() <= 1 and (off > 0).sum() <= 0.001 * off.numel()


def test_without_the_reflected_start_the_first_frames_differ() -> None:
    fixture = load_fixture("frvsr_bd_infer.pt")
    model = frnet_from_fixture(fixture).eval()
    lr = fixture["lr_thwc"].permute(0, 3, 1, 2)
    plain = torch.stack(list(stream(model, iter(lr), start=SequenceStart())))
    assert (plain[0] - fixture["hr_float_kept"][0]).abs().max() > 1e-3


def test_first_step_equals_warping_a_zero_frame() -> None:
    """The original's inference runs FNet on (frame 0, zeros) and warps a zero HR frame; skipping
    both gives the same SR frame."""
    model = FRNet(2, "BD", num_channels=8, num_blocks=1).eval()
    lr = torch.rand(1, 3, 8, 16)
    zeros = torch.zeros_like(lr)
    with torch.no_grad():
        sr, state, extras = model.step(zeros, lr, None)
        sr_warped, _, _ = model.step(zeros, lr, torch.zeros(1, 3, 16, 32))
    assert state is sr and sr.shape == (1, 3, 16, 32)
    assert extras["hr_flow"].shape == (1, 2, 16, 32)
    torch.testing.assert_close(sr, sr_warped, rtol=0, atol=0)


@pytest.mark.parametrize(("scale", "params"), [(4, 2_589_093), (2, 2_531_429)])
def test_parameter_counts(scale: int, params: int) -> None:
    assert sum(p.numel() for p in FRNet(scale, "BI").parameters()) == params


@pytest.mark.parametrize("degradation", ["BD", "BI"])
def test_x2_runs_on_frames_that_are_not_multiples_of_8(degradation: str) -> None:
    model = FRNet(2, degradation, num_channels=8, num_blocks=1).eval()
    with torch.no_grad():
        hr, extras = run_clip_with_extras(model, torch.rand(1, 3, 3, 10, 13))
    assert hr.shape == (1, 3, 3, 20, 26) and extras["lr_flow"].shape == (1, 3, 2, 10, 13)


def test_small_frames_and_bad_settings_are_refused() -> None:
    model = FRNet(4, "BI", num_channels=8, num_blocks=1)
    frame = torch.rand(1, 3, 6, 16)
    with pytest.raises(ValueError, match="at least 8x8 pixels, got 6x16"):
        model.step(frame, frame, torch.zeros(1, 3, 24, 64))
    with pytest.raises(ValueError, match="scale must be 2 or 4"):
        FRNet(3)
    with pytest.raises(ValueError, match="'BD' or 'BI'"):
        FRNet(4, "bicubic")


def test_registered_recurrent_with_the_tecogan_start() -> None:
    model = ARCHS.build({"type": "FRNet", "scale": 2, "degradation": "BI", "num_blocks": 2})
    assert isinstance(model, FRNet) and len(model.srnet.resblocks) == 2
    assert (model.temporal, model.first_prev, model.scale) == ("recurrent", "zeros", 2)
    assert model.sequence_start == SequenceStart(reflect_pad=5)


@pytest.mark.parametrize("release", ["FRVSR_BD_iter400000.pth", "TecoGAN_4x_BD_Vimeo_iter500K.pth"])
def test_release_layout_loads_as_it_is(tmp_path, release: str) -> None:
    """TecoGAN-PyTorch saves the bare generator's state_dict (upsampler kernels included)."""
    from vsr.engine.checkpoint import load_weights

    fixture = load_fixture("frvsr_bd.pt")
    path = tmp_path / release
    torch.save(recipe_weights(fixture), path)
    model = FRNet(4, "BD")
    assert load_weights(model, path).complete
    torch.testing.assert_close(model.state_dict()["srnet.conv_out.bias"],
                               recipe_weights(fixture)["srnet.conv_out.bias"], rtol=0, atol=0)


def test_training_clip_is_differentiable_through_the_warp_into_fnet() -> None:
    """The SR loss reaches FNet through the warped previous output (no warping loss needed)."""
    model = FRNet(2, "BD", num_channels=8, num_blocks=1).train()
    hr, extras = run_clip_with_extras(model, torch.rand(1, 3, 3, 8, 8))
    hr[:, 1:].mean().backward()
    assert model.fnet.encoder1[0].weight.grad.abs().sum() > 0
    assert extras["lr_flow"].requires_grad


def test_weights_verify_checks_the_release_layout_against_the_zoo_arch(tmp_path, capsys) -> None:
    from vsr.cli.main import main

    fixture = load_fixture("frvsr_bd.pt")
    path = tmp_path / "TecoGAN_4x_BD_Vimeo_iter500K.pth"
    torch.save(recipe_weights(fixture), path)
    assert main(["weights", "verify", str(path)]) == 0
    assert "arch     {type: FRNet, scale: 4, degradation: BD}: 78 tensors, 2,589,093 " \
           "parameters" in capsys.readouterr().out


@pytest.mark.parametrize("degradation", ["BD", "BI"])
def test_channels_last_and_bf16_stay_close_to_fp32(degradation: str) -> None:
    """Measured (seed 0): channels-last <= 1.2e-7, bf16 <= 0.9 % (BD) / 0.04 % (BI) of the output
    scale; bounds as in test_precision_paths (2e-6, 2 %, and bf16 must differ)."""
    import copy

    from vsr.archs.precision import Precision

    model = FRNet(4, degradation, num_channels=16, num_blocks=2).eval()
    frames = list(torch.rand(3, 3, 12, 16).unbind(0))

    def run(precision: Precision) -> torch.Tensor:
        return torch.stack(list(stream(copy.deepcopy(model), frames, precision=precision)))

    reference = run(Precision())
    torch.testing.assert_close(run(Precision(channels_last=True)), reference, rtol=0, atol=2e-6)
    bf16 = (run(Precision("bf16")) - reference).abs().max()
    assert 0 < bf16 <= 0.02 * reference.abs().max()


def test_parameters_are_channels_last_and_give_the_nchw_values() -> None:
    """FRNet keeps its weights channels-last (oneDNN's transposed convs run several times faster,
    scripts/bench_frvsr.py); an NCHW copy of the same weights, as the original holds them, gives
    the same frames within float rounding, and the step's outputs are plain contiguous."""
    torch.manual_seed(0)
    model = FRNet(4, "BD", num_channels=16, num_blocks=2).eval()
    conv = model.srnet.conv_up[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    nchw = FRNet(4, "BD", num_channels=16, num_blocks=2).to(memory_format=torch.contiguous_format)
    nchw.load_state_dict(model.state_dict())
    assert nchw.srnet.conv_up[0].weight.is_contiguous()
    lr = torch.rand(3, 1, 3, 16, 24)
    with torch.no_grad():
        state = ref_state = None
        for t in range(3):
            sr, state, extras = model.step(lr[t - 1], lr[t], state)
            ref, ref_state, _ = nchw.step(lr[t - 1], lr[t], ref_state)
            assert sr.is_contiguous() and all(v.is_contiguous() for v in extras.values())
            torch.testing.assert_close(sr, ref, rtol=0, atol=2e-6)
