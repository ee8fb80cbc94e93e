"""The widened temporal contract: extra step outputs, declared sequence-start policies,
per-frame conditions in training clips, and centre-frame training of window archs."""

import pytest
import torch
from torch import nn

from tests.archs.test_sequence import ClipNet, FrameNet, RecurrentNet, WindowNet
from vsr.archs.sequence import (
    SequenceStart,
    run_clip,
    run_clip_with_extras,
    stream,
)
from vsr.models.clip import ClipRunner


class FlowLikeNet(RecurrentNet):
    """A recurrent arch whose step also returns what a warping loss needs."""

    def step(self, lr_prev, lr_curr, state, gain=None):
        gain = torch.ones(lr_curr.shape[0]) if gain is None else gain  # (N,)
        sr, h = super().step(lr_prev, lr_curr * gain.view(-1, 1, 1, 1), state)
        return sr, h, {"flow": lr_curr - lr_prev, "gain": gain}


def _clip(t, n=1):
    torch.manual_seed(1)
    return torch.rand(n, t, 3, 6, 7)


def test_step_extras_are_stacked_over_time_and_ignored_when_streaming():
    net = FlowLikeNet("same").eval()
    lr = _clip(4, n=2)
    sr, extras = run_clip_with_extras(net, lr)
    assert sr.shape == (2, 4, 3, 12, 14)
    assert set(extras) == {"flow", "gain"} and extras["flow"].shape == (2, 4, 3, 6, 7)
    assert torch.equal(extras["flow"][:, 0], torch.zeros(2, 3, 6, 7))  # first_prev "same"
    assert torch.equal(extras["flow"][:, 2], lr[:, 2] - lr[:, 1])
    streamed = torch.stack(list(stream(net, iter(lr[0]))))
    torch.testing.assert_close(streamed, sr[0], rtol=0, atol=1e-6)


def test_conditions_of_a_training_clip_reach_each_step():
    net = FlowLikeNet("same").eval()
    lr = _clip(3)
    gains = torch.tensor([[1.0, 0.5, 2.0]])
    _, extras = run_clip_with_extras(net, lr, conditions={"gain": gains})
    assert extras["gain"].tolist() == [[1.0, 0.5, 2.0]]
    with pytest.raises(TypeError, match="per-frame conditions need a recurrent arch"):
        run_clip(FrameNet(), lr, conditions={"gain": gains})


def test_reflect_pad_runs_frames_k_to_1_first_and_drops_their_outputs():
    """FRVSR/TecoGAN inference: frames 5,4,3,2,1 prepended, first 5 outputs discarded."""
    net = RecurrentNet("zeros").eval()
    lr = _clip(7)
    padded = torch.cat([lr[:, [5, 4, 3, 2, 1]], lr], dim=1)
    expected = run_clip(net, padded)[:, 5:]
    policy = SequenceStart(reflect_pad=5)
    torch.testing.assert_close(run_clip(net, lr, start=policy), expected, rtol=0, atol=0)
    streamed = torch.stack(list(stream(net, iter(lr[0]), start=policy)))[None]
    torch.testing.assert_close(streamed, expected, rtol=0, atol=1e-6)
    assert not torch.allclose(expected, run_clip(net, lr))  # the padding matters
    # an arch may declare it as its inference default
    net.sequence_start = policy
    streamed = torch.stack(list(stream(net, iter(lr[0]))))[None]
    torch.testing.assert_close(streamed, expected, rtol=0, atol=1e-6)


def test_reflect_pad_longer_than_the_clip_reflects_what_there_is():
    assert SequenceStart(reflect_pad=5).order(3) == [2, 1, 0, 1, 2]
    assert SequenceStart(reflect_pad=5).order(1) == [0]


def test_mirror_averages_each_frame_with_its_mirrored_output():
    """RVRT Vimeo-90K-T: 7 frames mirrored to 14; output 3 is the mean of outputs 3 and 10."""
    net = ClipNet().eval()
    lr = _clip(7)
    whole = net(torch.cat([lr, lr.flip(1)], dim=1))
    policy = SequenceStart(mirror=True)
    out = run_clip(net, lr, start=policy)
    torch.testing.assert_close(out[:, 3], (whole[:, 3] + whole[:, 10]) / 2, rtol=0, atol=1e-6)
    streamed = torch.stack(list(stream(net, iter(lr[0]), chunk=32, start=policy)))
    torch.testing.assert_close(streamed, out[0], rtol=0, atol=1e-6)


def test_policy_errors():
    with pytest.raises(ValueError, match="reflect_pad or mirror"):
        SequenceStart(reflect_pad=2, mirror=True)
    with pytest.raises(ValueError, match="reflect_pad must be >= 0"):
        SequenceStart(reflect_pad=-1)


def test_window_arch_trains_on_the_centre_frame_only():
    """A window clip trains on its centre frame: no reflected edge windows."""
    net = WindowNet().eval()
    runner = ClipRunner(net)
    lr = _clip(5, n=2)
    gt = torch.rand(2, 5, 3, 12, 14)
    sr, _ = runner(lr)
    assert sr.shape == (2, 1, 3, 12, 14)
    torch.testing.assert_close(sr[:, 0], net(lr), rtol=0, atol=0)
    assert torch.equal(runner.targets(gt), gt[:, 2:3])
    longer = _clip(7)  # a longer clip still runs every window
    assert runner(longer)[0].shape[1] == 7
    assert runner.targets(torch.rand(1, 7, 3, 2, 2)).shape[1] == 7


def test_clip_runner_keys_are_the_archs():
    net = FrameNet()
    assert {k.removeprefix("arch.") for k in ClipRunner(net).state_dict()} == set(
        net.state_dict())
    assert isinstance(ClipRunner(net).arch, nn.Module)
