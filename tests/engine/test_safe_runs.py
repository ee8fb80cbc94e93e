"""Nothing a user does loses a run: a used folder is refused, a live run's folder is locked,
a diverging loss stops the run with its finite checkpoints kept, Ctrl-C saves and exits 130,
an unreadable newest checkpoint is passed over, and resumed logs hold every iteration once."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from vsr.cli.main import main
from vsr.data.synthetic import make_motion_clips
from vsr.engine.logging import read_scalars
from vsr.engine.run_dir import ExperimentFolderError, FolderLock
from vsr.registry import LOSSES

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ("import sys; sys.path.insert(0, {root!r}); import tests.engine.slow_dataset; "
          "from vsr.cli.main import main; sys.exit(main(sys.argv[1:]))")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    make_motion_clips(root, 2, 4, (32, 32), seed=0, split="train")
    return root


def _config(tmp_path: Path, clips: Path, **train) -> Path:
    cfg = {
        "name": "run", "output_root": str(tmp_path / "exp"), "seed": 2,
        "model": {"type": "SupervisedVSR", "arch": {"type": "ELSR", "scale": 4}},
        "train": {"dataset": {"type": "SlowGTVideoFolder", "gt_root": str(clips),
                              "degradation": {"type": "BI"}, "scale": 4, "num_frames": 2,
                              "gt_patch_size": 32},
                  "batch_size": 2, "total_iters": 20, "log_every": 1,
                  "optimizers": {"generator": {"lr": 1e-3}},
                  "checkpoint": {"every": 2, "keep_last": 3}, **train},
    }
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _cmd(cfg: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", DRIVER.format(root=str(ROOT)), "train", "-c", str(cfg), *extra]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _run(cfg: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(_cmd(cfg, *extra), env=_env(), capture_output=True, text=True,
                          timeout=300)


def test_rerun_without_resume_is_refused_and_overwrite_archives(tmp_path, clips, capsys):
    cfg = _config(tmp_path, clips, total_iters=2, **{"dataset": {
        "type": "GTVideoFolder", "gt_root": str(clips), "degradation": {"type": "BI"},
        "scale": 4, "num_frames": 2, "gt_patch_size": 32}})
    assert main(["train", "-c", str(cfg)]) == 0
    run = tmp_path / "exp" / "run"
    before = ((run / "config.yaml").read_bytes(),
              sorted(p.name for p in (run / "checkpoints").iterdir()))
    assert main(["train", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert str(run) in err and "--resume auto" in err and "--overwrite" in err
    assert before == ((run / "config.yaml").read_bytes(),
                      sorted(p.name for p in (run / "checkpoints").iterdir()))
    assert main(["train", "-c", str(cfg), "--overwrite"]) == 0
    archived = [p for p in (tmp_path / "exp").iterdir() if p.name.startswith("run_archived_")]
    assert len(archived) == 1 and (archived[0] / "checkpoints" / "iter_00000002.pth").is_file()
    assert (run / "checkpoints" / "iter_00000002.pth").is_file()


def test_a_live_run_locks_its_folder_and_a_dead_ones_lock_does_not(tmp_path):
    folder = tmp_path / "exp"
    lock = FolderLock(folder)
    code = ("import sys; sys.path.insert(0, {root!r}); from pathlib import Path; "
            "from vsr.engine.run_dir import FolderLock\n"
            "try:\n    FolderLock(Path({folder!r}))\nexcept Exception as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c",
                          code.format(root=str(ROOT), folder=str(folder))],
                         capture_output=True, text=True)
    assert f"pid {os.getpid()}" in out.stdout and "in use by a running training" in out.stdout
    lock.release()
    # a process that took the lock and was killed leaves the file, not the lock
    holder = subprocess.Popen([sys.executable, "-c", (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
        f"from vsr.engine.run_dir import FolderLock; held = FolderLock(Path({str(folder)!r})); "
        "print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(ExperimentFolderError, match="in use"):
        FolderLock(folder)
    holder.kill()
    holder.wait()
    FolderLock(folder).release()


@LOSSES.register("NaNFromCall")
class NaNFromCall(torch.nn.Module):
    """L1, but NaN from the ``start``-th call on (a run that diverges at a known iteration)."""

    def __init__(self, start: int = 7) -> None:
        super().__init__()
        self.start, self.calls = start, 0

    def forward(self, sr, gt):
        self.calls += 1
        loss = torch.nn.functional.l1_loss(sr, gt)
        return loss * float("nan") if self.calls >= self.start else loss


@pytest.mark.parametrize("amp", ["none", "fp16"])
def test_diverging_loss_stops_naming_iteration_and_keeps_finite_checkpoints(tmp_path, clips,
                                                                            capsys, amp):
    """fp32: the run stops at the first NaN loss. fp16: GradScaler skips the step and lowers its
    scale, as it does for an overflow; the run stops when that persists for 25 steps."""
    cfg = _config(tmp_path, clips, total_iters=60, amp=amp)
    code = main(["train", "-c", str(cfg), "train.dataset.type=GTVideoFolder",
                 "model.loss={type: NaNFromCall, start: 7}"])
    assert code == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    expected = 7 if amp == "none" else 7 + 24
    assert line.startswith(f"error: iteration {expected}: "), line
    assert ("the generator loss is nan" in line if amp == "none"
            else "25 generator steps in a row had non-finite fp16 gradients" in line)
    ckpts = tmp_path / "exp" / "run" / "checkpoints"
    saved = sorted(ckpts.iterdir())
    finite_until = 6  # iterations 1-6 had finite losses
    assert [p.name for p in saved][-1] == f"iter_{finite_until:08d}.pth" or amp == "fp16"
    for path in saved:
        state = torch.load(path, weights_only=True)
        assert all(torch.isfinite(v).all() for v in state["model"].values()
                   if v.is_floating_point())


def test_sigint_saves_at_the_iteration_and_resume_logs_the_uninterrupted_losses(tmp_path,
                                                                                clips):
    (tmp_path / "ref").mkdir()
    (tmp_path / "cut").mkdir()
    assert _run(_config(tmp_path / "ref", clips)).returncode == 0
    reference = read_scalars(tmp_path / "ref" / "exp" / "run" / "metrics.jsonl")
    cfg = _config(tmp_path / "cut", clips, checkpoint={"every": 50, "keep_last": 3})
    jsonl = tmp_path / "cut" / "exp" / "run" / "metrics.jsonl"
    proc = subprocess.Popen(_cmd(cfg), env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (jsonl.exists() and len(jsonl.read_text().splitlines()) >= 3):
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("interrupted: at "
                                                                               "iteration ")
    saved = sorted((jsonl.parent / "checkpoints").iterdir())
    assert len(saved) == 1 and int(saved[0].stem.split("_")[1]) == max(read_scalars(jsonl))
    assert _run(cfg, "--resume", "auto").returncode == 0
    resumed = read_scalars(jsonl)
    for it in range(1, 21):
        assert resumed[it]["loss"] == reference[it]["loss"], it
    assert len(jsonl.read_text().splitlines()) == 20  # every iteration once


def test_unreadable_newest_checkpoint_is_passed_over_with_a_warning(tmp_path, clips):
    cfg = _config(tmp_path, clips, total_iters=6)
    assert _run(cfg, "train.dataset.type=GTVideoFolder").returncode == 0
    ckpts = tmp_path / "exp" / "run" / "checkpoints"
    newest = ckpts / "iter_00000006.pth"
    newest.write_bytes(newest.read_bytes()[:1000])  # truncated by a full disk, say
    out = _run(cfg, "--resume", "auto", "train.dataset.type=GTVideoFolder",
               "train.total_iters=8")
    assert out.returncode == 0, out.stderr[-2000:]
    log = (ckpts.parent / "train.log").read_text()
    assert "iter_00000004.pth instead of the unreadable" in log and str(newest) in log
    assert "resumed from" in log and "at iteration 4" in log
    logged = [json.loads(x)["iter"] for x in (ckpts.parent / "metrics.jsonl").read_text()
              .splitlines()]
    assert logged == list(range(1, 9))  # 5 and 6 logged once, by the resumed run


def test_sigkill_at_random_points_even_inside_checkpoint_writes(tmp_path, clips):
    """Killed three times (once while a checkpoint is half written), resumed each time: the
    losses are the uninterrupted run's and no temporary file survives."""
    (tmp_path / "ref").mkdir()
    (tmp_path / "cut").mkdir()
    assert _run(_config(tmp_path / "ref", clips)).returncode == 0
    reference = read_scalars(tmp_path / "ref" / "exp" / "run" / "metrics.jsonl")
    cfg = _config(tmp_path / "cut", clips)
    run = tmp_path / "cut" / "exp" / "run"
    rng = random.Random(7)
    for attempt in range(3):
        extra = ("--resume", "auto") if attempt else ()
        proc = subprocess.Popen(_cmd(cfg, *extra), env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        if attempt == 1:  # inside a checkpoint write: the moment its temp file appears
            while not list((run / "checkpoints").glob(".*.tmp")):
                assert proc.poll() is None and time.time() < deadline, "no write caught"
        else:
            time.sleep(rng.uniform(1.0, 2.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert _run(cfg, "--resume", "auto").returncode == 0
    resumed = read_scalars(run / "metrics.jsonl")
    for it in range(1, 21):
        assert resumed[it]["loss"] == reference[it]["loss"], it
    assert not list(run.rglob("*.tmp"))
