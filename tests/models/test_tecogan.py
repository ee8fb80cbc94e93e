"""TecoGANModel through the Trainer on tiny clips: D gated by the adaptive criterion (counts
logged), networks isolated, ping-pong clip, exact resume."""

import copy

import pytest
import torch
import yaml

from vsr.config.experiment import load_experiment
from vsr.data.synthetic import make_motion_clips
from vsr.engine.logging import read_scalars
from vsr.engine.trainer import Trainer, _StepContext


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    make_motion_clips(root, 2, 4, (72, 72), seed=0, split="train")
    return root


def _cfg(tmp_path, clips, threshold=0.4, total=2, name="teco", amp="none"):
    cfg = {
        "name": name, "output_root": str(tmp_path / "exp"), "seed": 1, "device": "cpu",
        "model": {"type": "TecoGANModel",
                  "arch": {"type": "FRNet", "num_channels": 8, "num_blocks": 1},
                  "discriminator": {"type": "SpatioTemporalDiscriminator", "spatial_size": 64},
                  "pingpong": {"type": "PingPongLoss"}, "d_update_threshold": threshold},
        "train": {"dataset": {"type": "GTVideoFolder", "gt_root": str(clips),
                              "degradation": {"type": "BD_TecoGAN"}, "scale": 4,
                              "num_frames": 3, "gt_patch_size": 64},
                  "batch_size": 1, "total_iters": total, "log_every": 1, "amp": amp,
                  "optimizers": {"generator": {"lr": 1e-3}, "discriminator": {"lr": 1e-3}},
                  "checkpoint": {"every": 1, "keep_last": 5}},
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return load_experiment(path)


def _params(net):
    return [p.detach().clone() for p in net.parameters()]


def _same(a, net):
    return all(torch.equal(x, y) for x, y in zip(a, net.parameters()))


class _OnlyD(_StepContext):
    def optimize(self, optimizer, loss):
        if optimizer == "discriminator":
            super().optimize(optimizer, loss)


@pytest.mark.parametrize("threshold,stepped", [(1e9, True), (-1e9, False)])
def test_d_stepped_only_below_threshold_and_generator_always(tmp_path, clips, threshold, stepped):
    trainer = Trainer(_cfg(tmp_path, clips, threshold))
    model = trainer.model
    g0, d0 = _params(model.net), _params(model.discriminator)
    batch = next(iter(trainer._loader()))
    ctx = _StepContext(trainer)
    logs = model.training_step(batch, ctx)
    assert _same(d0, model.discriminator) != stepped
    assert not _same(g0, model.net)
    assert logs["total/d_updates"] == float(stepped) and int(model.d_updates) == int(stepped)
    assert ("discriminator" in ctx.stepped) == stepped
    assert logs["distance"] == pytest.approx(logs["distance"])  # finite


def test_only_d_step_leaves_generator_untouched(tmp_path, clips):
    trainer = Trainer(_cfg(tmp_path, clips, 1e9))
    model = trainer.model
    g0, d0 = _params(model.net), _params(model.discriminator)
    model.training_step(next(iter(trainer._loader())), _OnlyD(trainer))
    assert _same(g0, model.net) and not _same(d0, model.discriminator)


def test_pingpong_clip_reaches_generator(tmp_path, clips):
    trainer = Trainer(_cfg(tmp_path, clips))
    seen = {}
    gen = trainer.ddp_nets["generator"]
    orig = gen.forward
    gen.forward = lambda lr, *a: (seen.setdefault("lr", lr), orig(lr, *a))[1]
    batch = next(iter(trainer._loader()))
    trainer.model.training_step(batch, _StepContext(trainer))
    lr = batch["lr"]
    assert seen["lr"].shape[1] == 5
    assert torch.equal(seen["lr"], torch.cat([lr, lr[:, 1:2], lr[:, 0:1]], 1))


@pytest.mark.parametrize("amp", ["none", "fp16"])
def test_resume_gives_identical_next_steps(tmp_path, clips, amp):
    """Both optimizers, both schedulers and (fp16) both loss scalers come back from the
    checkpoint: the resumed run logs and ends exactly as the uninterrupted one."""
    full = Trainer(_cfg(tmp_path / "a", clips, total=3, amp=amp))
    full.train()
    ref = read_scalars(full.exp_dir / "metrics.jsonl")
    Trainer(_cfg(tmp_path / "b", clips, total=1, amp=amp)).train()
    resumed = Trainer(_cfg(tmp_path / "b", clips, total=3, amp=amp), resume="auto")
    assert resumed.iteration == 1
    resumed.train()
    got = read_scalars(resumed.exp_dir / "metrics.jsonl")
    for it in (2, 3):
        for key in ("loss", "l_gan_D", "distance", "updated/discriminator", "total/d_updates"):
            assert got[it][key] == ref[it][key], (it, key)
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)
    scalers = full._state()["scalers"]
    assert set(scalers) == {"generator", "discriminator"}
    assert resumed._state()["scalers"] == scalers
    if amp == "fp16":  # the scalers are live and were saved with their scale
        assert all(s["scale"] > 0 for s in scalers.values())
    else:
        assert all(s == {} for s in scalers.values())
    assert copy.deepcopy(full._state()["optimizers"]["discriminator"]["state"]) != {} or \
        ref[1]["updated/discriminator"] == 0.0
