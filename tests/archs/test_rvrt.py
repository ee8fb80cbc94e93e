"""RVRT against the original network_rvrt.py (fixtures rvrt_blocks, rvrt_full, rvrt_gda_inputs;
fixtures/parity/README.md §7) with the recipe weights loaded from a release-layout file."""

from __future__ import annotations

import pytest
import torch

from tests.archs.rvrt_recipe import rvrt_recipe_weights
from tests.conftest import load_fixture
from vsr.archs.ops.swin3d import relative_position_index
from vsr.archs.rvrt import RVRT
from vsr.engine.checkpoint import load_weights
from vsr.registry import ARCHS


@pytest.fixture(scope="module")
def weights() -> dict:
    return rvrt_recipe_weights()


@pytest.fixture(scope="module")
def model(weights, tmp_path_factory) -> RVRT:
    """RVRT loaded strictly from a file in the release layout (state under 'params')."""
    path = tmp_path_factory.mktemp("rvrt") / "001_RVRT_videosr_bi_REDS_30frames.pth"
    torch.save({"params": weights}, path)
    net = RVRT().eval()
    load_weights(net, path)
    return net


def test_state_dict_is_the_release_layout(model) -> None:
    fixture = load_fixture("rvrt_full.pt")
    entries = fixture["state_dict_keys"]
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == \
        [(key, shape) for key, shape, _, _ in entries]
    assert sum(p.numel() for p in model.parameters()) == 10_782_295
    assert torch.equal(relative_position_index((1, 8, 8)), fixture["relative_position_index_64"])
    assert torch.equal(relative_position_index((2, 8, 8)), fixture["relative_position_index_128"])


def test_blocks_match_original(model) -> None:
    fixture = load_fixture("rvrt_blocks.pt")
    with torch.no_grad():
        shallow = model.feat_extract(fixture["feat_extract_in"])
        backbone = model.backbone["backward_1"](fixture["backbone_in"])
        up = model.upsampler(fixture["upsampler_in"])
    torch.testing.assert_close(shallow, fixture["feat_extract_out"], rtol=0, atol=2e-5)
    torch.testing.assert_close(backbone, fixture["backbone_backward_1_out"], rtol=0, atol=2e-5)
    torch.testing.assert_close(up, fixture["upsampler_out"], rtol=0, atol=2e-5)


def test_full_two_frame_forward_matches_original(model) -> None:
    fixture = load_fixture("rvrt_full.pt")
    lq = fixture["lq"]
    with torch.no_grad():
        flows_backward, flows_forward = model.compute_flows(lq)
        out = model(lq)
    torch.testing.assert_close(flows_backward, fixture["flows_backward"], rtol=0, atol=1e-5)
    torch.testing.assert_close(flows_forward, fixture["flows_forward"], rtol=0, atol=1e-5)
    torch.testing.assert_close(out, fixture["out"], rtol=0, atol=2e-5)


def test_is_registered_as_a_clip_arch() -> None:
    net = ARCHS.build({"type": "RVRT", "embed_dim": 12, "num_heads": 2, "deformable_groups": 4,
                       "attention_heads": 4})
    assert isinstance(net, RVRT) and (net.temporal, net.scale) == ("clip", 4)
    with pytest.raises(ValueError, match="x4"):
        RVRT(scale=2)


class _StopAtAlignment(Exception):
    """Raised by the hook once the first alignment's inputs are captured."""


def test_first_alignment_inputs_match_original(model) -> None:
    """On 4 frames, the arguments of the first GDA call (deform_align.backward_1, second clip)
    and the op's inputs computed from them equal the original's (rvrt_gda_inputs.pt)."""
    fixture = load_fixture("rvrt_gda_inputs.pt")
    captured = {}

    def capture(module, args):
        captured["args"] = args
        raise _StopAtAlignment

    handle = model.deform_align["backward_1"].register_forward_pre_hook(capture)
    try:
        with torch.no_grad(), pytest.raises(_StopAtAlignment):
            model(fixture["lq"])
    finally:
        handle.remove()
    q, k, v, warped, flows = captured["args"]
    gda = model.deform_align["backward_1"]
    with torch.no_grad():
        flows_backward, flows_forward = model.compute_flows(fixture["lq"])
        offsets = torch.cat(gda.offsets(q, warped, flows), 2).flatten(0, 1)
        q_proj = gda.proj_q(q).flatten(0, 1)[:, None]
        kv_proj = torch.cat([gda.proj_k(k), gda.proj_v(v)], 2)
    for name, ours in (("flows_backward", flows_backward), ("flows_forward", flows_forward),
                       ("flow_n1", flows[0]), ("flow_n2", flows[1])):
        torch.testing.assert_close(ours, fixture[name], rtol=0, atol=1e-4)
    torch.testing.assert_close(offsets[..., :8, :8], fixture["offset_crop"], rtol=0, atol=1e-4)
    torch.testing.assert_close(q_proj[..., :8, :8], fixture["q_proj_crop"], rtol=0, atol=1e-4)
    torch.testing.assert_close(kv_proj[..., :8, :8], fixture["kv_proj_crop"], rtol=0, atol=1e-4)
    for name, ours in (("offset", offsets), ("q_proj", q_proj), ("kv_proj", kv_proj),
                       ("warped1", warped[0]), ("warped2", warped[1]), ("gda_q_in", q),
                       ("gda_k_in", k), ("gda_v_in", v)):
        assert list(ours.shape) == fixture.get(f"{name}_shape", list(ours.shape))
        stats = torch.tensor([ours.mean(), ours.std(), ours.abs().sum()], dtype=torch.float64)
        expected = torch.tensor(fixture[f"{name}_stats"], dtype=torch.float64)
        torch.testing.assert_close(stats, expected, rtol=1e-5, atol=1e-6)


def small_rvrt(**kwargs) -> RVRT:
    torch.manual_seed(3)
    net = RVRT(embed_dim=12, num_heads=2, deformable_groups=4, attention_heads=4, **kwargs)
    with torch.no_grad():  # a non-zero last offset layer, so the learned residual matters
        for gda in net.deform_align.values():
            gda.conv_offset[-1].weight.normal_(0, 0.05)
    return net


def test_odd_clip_is_completed_by_its_last_frame() -> None:
    net = small_rvrt().eval()
    lq = torch.rand(1, 3, 3, 12, 16)
    with torch.no_grad():
        out = net(lq)
        padded = net(torch.cat([lq, lq[:, 2:]], 1))
    assert out.shape == (1, 3, 3, 48, 64)
    torch.testing.assert_close(out, padded[:, :3], rtol=0, atol=0)


def test_mirror_extended_clip_reuses_reversed_backward_flows() -> None:
    net = small_rvrt().eval()
    half = torch.rand(1, 2, 3, 12, 16)
    with torch.no_grad():
        backward, forward = net.compute_flows(torch.cat([half, half.flip(1)], 1))
        plain_backward, plain_forward = net.compute_flows(torch.cat([half, half], 1))
    assert torch.equal(forward, backward.flip(1))
    assert not torch.equal(plain_forward, plain_backward.flip(1))


def test_checkpointed_ffn_gives_the_same_output_and_gradients() -> None:
    lq = torch.rand(1, 4, 3, 12, 16)
    results = []
    for flag in (False, True):
        net = small_rvrt(use_checkpoint_ffn=flag).train()
        out = net(lq)
        out.square().mean().backward()
        grads = {k: p.grad.clone() for k, p in net.named_parameters() if p.grad is not None}
        results.append((out.detach(), grads))
    (out_a, grads_a), (out_b, grads_b) = results
    torch.testing.assert_close(out_b, out_a, rtol=0, atol=1e-6)
    assert grads_a.keys() == grads_b.keys()
    assert "deform_align.backward_1.conv_offset.0.weight" in grads_a  # the GDA is trained
    for key in grads_a:
        torch.testing.assert_close(grads_b[key], grads_a[key], rtol=1e-4, atol=1e-6)


def test_config_spec_with_lists_and_a_missing_spynet_file_is_checked(tmp_path) -> None:
    from vsr.config.loader import ConfigError, Provenance
    from vsr.config.schema import check_spec

    spec = check_spec({"type": "RVRT", "window_size": [2, 8, 8], "num_blocks": [1, 2, 1]},
                      ARCHS, "arch", Provenance())
    assert spec["window_size"] == (2, 8, 8)
    with pytest.raises(ConfigError, match="spynet"):
        check_spec({"type": "RVRT", "spynet_path": str(tmp_path / "missing.pth")}, ARCHS,
                   "arch", Provenance())
    unchecked = Provenance()
    unchecked.check_paths = False  # validating a config on a machine without the files
    spec = check_spec({"type": "RVRT", "spynet_path": str(tmp_path / "missing.pth")}, ARCHS,
                      "arch", unchecked)
    assert spec["spynet_path"] == str(tmp_path / "missing.pth")


def test_bf16_autocast_follows_fp32() -> None:
    """Under CPU bf16 autocast (the engine's bf16 precision) layers mix bf16 and fp32 tensors;
    the deformable attention still samples in fp32."""
    net = small_rvrt().eval()
    lq = torch.rand(1, 4, 3, 12, 16)
    with torch.no_grad():
        ref = net(lq)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = net(lq)
    assert (low.float() - ref).abs().max() < 0.02
