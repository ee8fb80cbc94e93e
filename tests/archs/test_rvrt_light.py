"""RVRT Light: its plain-window alignment against a direct unfold computation, and the model's
shapes, parameters and behaviour."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vsr.archs.rvrt import RVRT, NeighbourAttnPack, RVRTLight
from vsr.io.weights import load_state_partial
from vsr.registry import ARCHS


def direct_window_attention(pack: NeighbourAttnPack, q, k, v):
    """Each query pixel against the zero-padded 3×3 windows of both previous frames, written
    with unfold: 18 keys per head, scale head_dim^-0.5, one softmax."""
    n, t, c, h, w = q.shape
    heads = pack.heads

    def linear(seq, x):  # the Linear inside a channels-last wrapper
        return seq[1](x.permute(0, 1, 3, 4, 2)).permute(0, 1, 4, 2, 3)

    qp, kp, vp = linear(pack.proj_q, q), linear(pack.proj_k, k), linear(pack.proj_v, v)
    d = qp.shape[2] // heads

    def windows(x):  # (N, T, C', H, W) -> (N, heads, d, T·9, H·W)
        cols = F.unfold(x.flatten(0, 1), 3, padding=1).view(n, t, heads, d, 9, h * w)
        return cols.permute(0, 2, 3, 1, 4, 5).reshape(n, heads, d, t * 9, h * w)

    keys, values = windows(kp), windows(vp)
    out = []
    for j in range(t):
        query = qp[:, j].reshape(n, heads, d, 1, h * w) * d ** -0.5
        attn = (query * keys).sum(2, keepdim=True).softmax(dim=3)
        out.append((attn * values).sum(3).reshape(n, heads * d, h, w))
    out = linear(pack.proj, torch.stack(out, 1))
    return out + pack.mlp(out)


def test_plain_window_alignment_matches_unfold_attention() -> None:
    torch.manual_seed(5)
    pack = NeighbourAttnPack(dim=8, heads=4, groups=1).eval()
    q, k, v = torch.randn(3, 2, 2, 8, 5, 7)
    with torch.no_grad():
        ours = pack(q, k, v)
        theirs = direct_window_attention(pack, q, k, v)
    assert ours.shape == (2, 2, 8, 5, 7)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)


def small_light() -> RVRTLight:
    torch.manual_seed(4)
    return ARCHS.build({"type": "RVRTLight", "embed_dim": 12, "num_heads": 2,
                        "attention_heads": 4})


def test_light_has_no_flow_offsets_or_position_bias_and_shares_rvrt_names() -> None:
    light = RVRTLight()
    keys = list(light.state_dict())
    assert not any(k.startswith("spynet.") or "conv_offset" in k or "relative_position" in k
                   for k in keys)
    assert (light.temporal, light.scale) == ("clip", 4)
    params = sum(p.numel() for p in light.parameters())
    rvrt = RVRT()
    # MODELS.md §4.6: about 8.5 M, RVRT minus SpyNet, offset convs (and the bias tables)
    assert params == 8_456_755 < sum(p.numel() for p in rvrt.parameters())
    report = load_state_partial(light, rvrt.state_dict(), "rvrt")
    assert set(report.loaded) == set(keys)  # every Light weight exists in RVRT with its shape


def test_light_runs_a_clip_with_gradients() -> None:
    net = small_light().train()
    lq = torch.rand(1, 4, 3, 10, 12)
    out = net(lq)
    assert out.shape == (1, 4, 3, 40, 48)
    out.mean().backward()
    assert net.deform_align["forward_2"].proj_k[1].weight.grad.abs().sum() > 0
    with torch.no_grad():  # frames after the first clip depend on the previous clip's content
        changed = lq.clone()
        changed[:, :2] = torch.rand(1, 2, 3, 10, 12)
        net.eval()
        a, b = net(lq), net(changed)
    assert (a[:, 2:] - b[:, 2:]).abs().max() > 1e-4
