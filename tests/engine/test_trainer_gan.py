"""Two networks, two optimizers, one Trainer: no gradient leaks between them, the conditional
discriminator step is decided alike on every rank, BatchNorm under torchrun, exact resume."""

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

import tests.engine.toy_gan  # noqa: F401  (registers ToyGAN and ToyBNNet)
from vsr.config.experiment import load_experiment
from vsr.data.synthetic import make_motion_clips
from vsr.engine.logging import read_scalars
from vsr.engine.trainer import Trainer, _StepContext

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ("import sys; sys.path.insert(0, {root!r}); import tests.engine.slow_dataset; "
          "import tests.engine.toy_gan; "
          "from vsr.cli.main import main; sys.exit(main(sys.argv[1:]))")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    make_motion_clips(root / "train", 4, 4, (40, 40), seed=0, split="train")
    return root


def _config(tmp_path: Path, clips: Path, **train) -> Path:
    cfg = {
        "name": "gan",
        "output_root": str(tmp_path / "exp"),
        "seed": 3,
        "model": {"type": "ToyGAN", "arch": {"type": "ToyBNNet", "scale": 4},
                  "threshold": -0.1},
        "train": {
            "dataset": {"type": "SlowGTVideoFolder", "gt_root": str(clips / "train"),
                        "degradation": {"type": "BI"}, "scale": 4, "num_frames": 2,
                        "gt_patch_size": 32, "use_hflip": True},
            "batch_size": 4, "total_iters": 12, "log_every": 1,
            "optimizers": {"generator": {"lr": 2e-3, "grad_clip": 1.0},
                           "discriminator": {"lr": 1e-3, "betas": [0.5, 0.999]}},
            "checkpoint": {"every": 4, "keep_last": 2},
            **train,
        },
    }
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _train_cmd(cfg: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", DRIVER.format(root=str(ROOT)), "train", "-c", str(cfg), *extra]


def test_generator_step_leaks_no_gradient_into_the_discriminator_update(tmp_path, clips):
    """After the generator's step, the discriminator's update equals one computed from its own
    loss alone, although the generator's loss runs through the discriminator."""
    cfg = load_experiment(_config(tmp_path, clips), ["model.threshold=1.0e+9",
                                                     "train.dataset.type=GTVideoFolder"])
    trainer = Trainer(cfg)
    model = trainer.model
    batch = next(iter(trainer._loader()))
    disc_before = copy.deepcopy(model.discriminator)
    opt_before = copy.deepcopy(trainer.optimizers["discriminator"].state_dict())
    # the generator's loss does depend on the discriminator's weights
    sr, _ = model.generator(batch["lr"])
    adversarial = torch.nn.functional.softplus(-disc_before(sr.flatten(0, 1))).mean()
    leak = torch.autograd.grad(adversarial, list(disc_before.parameters()))
    assert max(g.abs().max().item() for g in leak) > 1e-4

    logs = model.training_step(batch, _StepContext(trainer))
    assert logs["margin"] < 1e9  # the discriminator was stepped

    reference = copy.deepcopy(disc_before).train()
    reference.load_state_dict(model.discriminator.state_dict(), strict=False)  # buffers now
    for p_ref, p_old in zip(reference.parameters(), disc_before.parameters()):
        p_ref.data.copy_(p_old.data)
    optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3, betas=(0.5, 0.999))
    optimizer.load_state_dict(opt_before)
    loss, _ = model.discriminator_loss(reference, batch["gt"].flatten(0, 1), model.last_fake)
    loss.backward()
    optimizer.step()
    for p_ref, p in zip(reference.parameters(), model.discriminator.parameters()):
        assert torch.equal(p_ref, p)
    assert not torch.equal(next(reference.parameters()), next(disc_before.parameters()))


def test_two_ranks_equal_one_process_with_the_same_global_batch(tmp_path, clips):
    """torchrun, 2 CPU ranks x batch 2 with sync_bn against 1 process x batch 4: the same losses
    and discriminator decisions, and identical parameters and buffers on both ranks."""
    (tmp_path / "one").mkdir()
    single = _config(tmp_path / "one", clips, sync_bn=True)
    subprocess.run(_train_cmd(single, "train.dataset.type=GTVideoFolder"), check=True,
                   env=_env(), capture_output=True)
    (tmp_path / "two").mkdir()
    double = _config(tmp_path / "two", clips, sync_bn=True, batch_size=2)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(root=str(ROOT)).replace("; ", "\n"))
    out = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                          "--nproc_per_node=2", str(driver), "train", "-c", str(double),
                          "train.dataset.type=GTVideoFolder"],
                         env=_env(), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    one = read_scalars(tmp_path / "one" / "exp" / "gan" / "metrics.jsonl")
    two = read_scalars(tmp_path / "two" / "exp" / "gan" / "metrics.jsonl")
    log = (tmp_path / "two" / "exp" / "gan" / "train.log").read_text()
    assert "world size 2" in log and "parameters and buffers identical on 2 ranks" in log
    assert out.stderr.count("iter 1/12:") == 1  # one console line, not one per rank
    decisions = [one[i]["updated/discriminator"] for i in range(1, 13)]
    assert 0.0 in decisions and 1.0 in decisions, "the criterion must both pass and fail"
    for i in range(1, 13):
        assert two[i]["updated/discriminator"] == one[i]["updated/discriminator"], i
        for key in ("loss", "d_loss", "margin"):
            assert two[i][key] == pytest.approx(one[i][key], rel=1e-4, abs=1e-6), (i, key)


def test_sigkill_then_resume_logs_exactly_the_uninterrupted_two_optimizer_run(tmp_path, clips):
    (tmp_path / "ref").mkdir()
    (tmp_path / "cut").mkdir()
    subprocess.run(_train_cmd(_config(tmp_path / "ref", clips)), check=True, env=_env(),
                   capture_output=True)
    reference = read_scalars(tmp_path / "ref" / "exp" / "gan" / "metrics.jsonl")
    cfg = _config(tmp_path / "cut", clips)
    ckpts = tmp_path / "cut" / "exp" / "gan" / "checkpoints"
    proc = subprocess.Popen(_train_cmd(cfg), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (ckpts / "iter_00000004.pth").exists():
        assert proc.poll() is None and time.time() < deadline, "run ended before the kill"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert max(read_scalars(ckpts.parent / "metrics.jsonl")) < 12, "the kill must interrupt"
    subprocess.run(_train_cmd(cfg, "--resume", "auto"), check=True, env=_env(),
                   capture_output=True)
    resumed = read_scalars(ckpts.parent / "metrics.jsonl")
    for it in range(5, 13):
        for key in ("loss", "d_loss", "updated/discriminator", "lr/discriminator"):
            assert resumed[it][key] == reference[it][key], (it, key)
