"""RRN against the original test loop (fixtures rrn_10l / rrn_3l) and the published sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.archs.weight_recipe import recipe_state_dict
from tests.conftest import load_fixture
from vsr.archs.rrn import RRN
from vsr.io.weights import foreign_state_dict
from vsr.registry import ARCHS


def rrn_from_fixture(fixture: dict) -> RRN:
    """RRN with the fixture's recipe weights, loaded from a DataParallel-style checkpoint."""
    ctor = fixture["constructor"]
    model = RRN(ctor["scale"], ctor["n_c"], ctor["n_b"]).eval()
    checkpoint = recipe_state_dict(
        fixture["state_dict_keys"], prefix=fixture["checkpoint_key_prefix"]
    )
    model.load_state_dict(foreign_state_dict(checkpoint))
    return model


@pytest.mark.parametrize("name", ["rrn_10l.pt", "rrn_3l.pt"])
def test_rrn_matches_official_test_loop(name: str) -> None:
    fixture = load_fixture(name)
    model = rrn_from_fixture(fixture)
    assert list(model.state_dict()) == [entry[0] for entry in fixture["state_dict_keys"]]
    lr = fixture["lr_input"]  # (1, C, T + 1, H, W): LR frame 1 already prepended
    state = None
    outputs = []
    with torch.no_grad():
        for i in range(lr.shape[2] - 1):
            sr, state = model.step(lr[:, :, i], lr[:, :, i + 1], state)
            outputs.append(sr)
    torch.testing.assert_close(torch.stack(outputs, 2), fixture["outputs"], rtol=0, atol=1e-5)
    torch.testing.assert_close(state[0], fixture["last_hidden"], rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("num_blocks", "params"), [(3, 1_298_224), (5, 1_888_560), (10, 3_364_400)]
)
def test_rrn_parameter_counts(num_blocks: int, params: int) -> None:
    model = RRN(num_blocks=num_blocks)
    assert sum(p.numel() for p in model.parameters()) == params


def test_rrn_is_registered_recurrent() -> None:
    model = ARCHS.build({"type": "RRN", "num_blocks": 3})
    assert isinstance(model, RRN)
    assert (model.temporal, model.first_prev, model.scale) == ("recurrent", "next", 4)
    assert len(model.neuro.recon_trunk) == 3


def test_first_state_is_zero_hidden_and_output() -> None:
    model = RRN(scale=2, num_channels=8, num_blocks=2).eval()
    lr_prev, lr_curr = torch.rand(2, 2, 3, 5, 7)
    zero_state = (torch.zeros(2, 8, 5, 7), torch.zeros(2, 3, 10, 14))
    with torch.no_grad():
        sr, (hidden, out) = model.step(lr_prev, lr_curr, None)
        sr_zero, _ = model.step(lr_prev, lr_curr, zero_state)
    assert sr.shape == (2, 3, 10, 14) and hidden.shape == (2, 8, 5, 7)
    assert out is sr
    torch.testing.assert_close(sr, sr_zero, rtol=0, atol=0)


def test_release_files_are_unwrapped_and_lose_the_prefix() -> None:
    weight = torch.ones(2)
    for checkpoint in (
        {"module.neuro.conv_1.bias": weight},
        {"state_dict": {"module.neuro.conv_1.bias": weight}},
        {"params": {"neuro.conv_1.bias": weight}},
    ):
        assert foreign_state_dict(checkpoint) == {"neuro.conv_1.bias": weight}


@pytest.mark.parametrize("name", ["rrn_10l.pt", "rrn_3l.pt"])
def test_engine_loop_streaming_and_metrics_reproduce_the_official_test(name, tmp_path) -> None:
    """The engine's recurrent loop (first_prev="next" instead of a prepended frame), its
    streaming form, released-checkpoint loading and the RRN metric protocol (8-px crop of the
    padded frames, MATLAB Y, float) give test.py's outputs and per-frame PSNR/SSIM."""
    from vsr.archs.sequence import run_clip, stream
    from vsr.engine.checkpoint import load_weights
    from vsr.metrics.psnr_ssim import PSNR, SSIM

    fixture = load_fixture(name)
    path = tmp_path / "RRN.pth"
    torch.save(recipe_state_dict(fixture["state_dict_keys"],
                                 prefix=fixture["checkpoint_key_prefix"]), path)
    ctor = fixture["constructor"]
    model = RRN(ctor["scale"], ctor["n_c"], ctor["n_b"]).eval()
    load_weights(model, path)
    clip = fixture["lr_input"][:, :, 1:].transpose(1, 2)  # drop the prepended frame: N,T,C,H,W
    with torch.no_grad():
        whole = run_clip(model, clip)[0]
    streamed = torch.stack(list(stream(model, iter(clip[0]))))
    expected = fixture["outputs"][0].transpose(0, 1)
    torch.testing.assert_close(whole, expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(streamed, whole, rtol=0, atol=0)
    pad = ((0, 0), (8, 8), (8, 8), (0, 0))  # test.py's GT is reflect-padded like its input
    gt = torch.from_numpy(np.pad(fixture["gt_crop_uint8"].numpy(), pad, mode="reflect"))
    gt = gt.permute(0, 3, 1, 2).double() / 255
    psnr = PSNR(channel="y", y_formula="matlab", crop_border=8)
    ssim = SSIM(channel="y", y_formula="matlab", crop_border=8)
    for t in range(gt.shape[0]):
        assert psnr(whole[t].double(), gt[t]) == pytest.approx(fixture["psnr_y_per_frame"][t],
                                                               abs=1e-4)
        assert ssim(whole[t].double(), gt[t]) == pytest.approx(fixture["ssim_y_per_frame"][t],
                                                               abs=1e-5)
