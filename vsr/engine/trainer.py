"""The one training loop, for every model: iteration-based, CPU / one GPU / torchrun ranks, AMP,
EMA, periodic validation, atomic checkpoints and exact resume."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from vsr.config.experiment import ExperimentCfg, TrainCfg, resolved_dict
from vsr.config.loader import dump_config
from vsr.data.sampler import InfiniteSampler
from vsr.engine import checkpoint as ckpt
from vsr.engine.builders import build_evaluator, check_training_scale
from vsr.engine.device import resolve_device
from vsr.engine.distributed import (
    DistInfo,
    all_ranks,
    barrier,
    broadcast_state,
    init_distributed,
    max_rank_difference,
    mean_over_ranks,
    wrap_ddp,
)
from vsr.engine.ema import EMA
from vsr.engine.eta import EtaClock
from vsr.engine.interrupt import deferred_sigint
from vsr.engine.logging import RunLog, get_logger
from vsr.engine.optim import build_optimizer, build_scheduler
from vsr.engine.provenance import run_record
from vsr.engine.run_dir import (
    ExperimentFolderError,
    FolderLock,
    archive_experiment_folder,
    check_experiment_folder,
    remove_stale_temporaries,
)
from vsr.engine.sync_bn import convert_batchnorm
from vsr.errors import CheckpointError, Interrupted, TrainingDiverged
from vsr.io.image import atomic_write_bytes
from vsr.registry import DATASETS, MODELS

_AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
# fp16 steps skipped in a row (GradScaler halving its scale each time) before a run is declared
# diverged: an overflow heals within a few steps, a NaN never does
FP16_SKIP_LIMIT = 25


class _StepContext:
    """What ``training_step`` calls (see ``vsr.models.base.StepContext``)."""

    def __init__(self, trainer: Trainer) -> None:
        self._t = trainer
        self.iteration = 0
        self.nets = trainer.ddp_nets
        self.stepped: dict[str, int] = {}
        self._skipped: dict[str, int] = {}  # consecutive fp16 steps skipped, per optimizer

    def optimize(self, optimizer: str, loss: torch.Tensor) -> None:
        t = self._t
        opt, scaler, params = t.optimizers[optimizer], t.scalers[optimizer], t.params[optimizer]
        fp16 = scaler.is_enabled()
        if not fp16 and not all_ranks(bool(torch.isfinite(loss.detach()).all())):
            raise TrainingDiverged(f"iteration {self.iteration + 1}: the {optimizer} loss is "
                                   f"{loss.item()}; stopped with the last finite checkpoints "
                                   f"kept (lower the learning rate, check the data)")
        with torch.autocast(t.device.type, enabled=False):
            # gradients of this loss reach this optimizer's parameters only
            torch.autograd.backward(scaler.scale(loss), inputs=params)
        clip = t.train_cfg.optimizers[optimizer].grad_clip or t.train_cfg.grad_clip
        if clip:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(params, clip)
        if not fp16:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])
            if not all_ranks(bool(torch.isfinite(norm))):
                raise TrainingDiverged(f"iteration {self.iteration + 1}: the gradients of the "
                                       f"{optimizer} loss ({loss.item():.6g}) are not finite; "
                                       f"stopped with the last finite checkpoints kept")
        scale = scaler.get_scale() if fp16 else 1.0
        scaler.step(opt)  # fp16: skipped when the gradients overflowed, as GradScaler does
        scaler.update()
        opt.zero_grad(set_to_none=True)
        if fp16 and scaler.get_scale() < scale:
            self._skipped[optimizer] = self._skipped.get(optimizer, 0) + 1
            if self._skipped[optimizer] >= FP16_SKIP_LIMIT:
                raise TrainingDiverged(
                    f"iteration {self.iteration + 1}: {FP16_SKIP_LIMIT} {optimizer} steps in a "
                    f"row had non-finite fp16 gradients (loss {loss.item():.6g}); stopped with "
                    f"the last finite checkpoints kept (try amp: bf16 or a lower lr)")
            return
        self._skipped[optimizer] = 0
        self.stepped[optimizer] = self.stepped.get(optimizer, 0) + 1

    def agree(self, flag: bool) -> bool:
        return all_ranks(flag)

    def mean(self, value: float) -> float:
        return mean_over_ranks(torch.tensor([float(value)], dtype=torch.float64)).item()


COUNTER_PREFIX = "total/"
"""Step logs under this prefix are running counts (e.g. how often a network was stepped in
all): a log line shows their latest value; every other value is averaged over the log window."""


def window_summary(window: dict[str, list[float]]) -> dict[str, float]:
    """What one log line shows of the step values since the last one."""
    return {k: v[-1] if k.startswith(COUNTER_PREFIX) else sum(v) / len(v)
            for k, v in window.items()}


class Trainer:
    def __init__(self, cfg: ExperimentCfg, resume: str | None = None,
                 overwrite: bool = False) -> None:
        if cfg.train is None:
            raise ValueError("config has no 'train' section")
        self.cfg = cfg
        self.train_cfg: TrainCfg = cfg.train
        device_type = resolve_device(cfg.device).type
        self.dist: DistInfo = init_distributed(device_type)
        self.device = resolve_device(cfg.device, self.dist.local_rank)
        self.exp_dir = cfg.experiment_dir
        self.ckpt_dir = self.exp_dir / "checkpoints"
        main = self.dist.is_main
        self.lock = None
        notes = self._prepare_folder(resume, overwrite)
        self.logger = get_logger(self.exp_dir / "train.log" if main else None,
                                 console_level=logging.INFO if main else logging.WARNING)
        for note in notes:
            self.logger.warning(note)
        if main:
            resolved = dump_config(resolved_dict(cfg)).encode()
            atomic_write_bytes(self.exp_dir / "config.yaml", resolved)
            record = run_record(cfg.weights, self.device, resumed=bool(resume))
            atomic_write_bytes(self.exp_dir / "run.json", json.dumps(record, indent=1).encode())
        torch.manual_seed(cfg.seed)
        self.model = MODELS.build(cfg.model)
        if cfg.weights:  # fine-tuning: start from pretrained weights (a resume overrides them)
            report = ckpt.load_weights(self.model.net, cfg.weights, strict=cfg.weights_strict)
            for line in report.lines():
                self.logger.info(line)
        nets = self.model.trainable()
        if set(nets) != set(self.train_cfg.optimizers):
            raise ValueError(f"train.optimizers must name exactly {sorted(nets)} for "
                             f"{cfg.model['type']}, got {sorted(self.train_cfg.optimizers)}")
        if self.train_cfg.sync_bn and self.dist.enabled:
            nets = {name: convert_batchnorm(net) for name, net in nets.items()}
        self.model.to(self.device)
        broadcast_state(self.model)
        named = {n: [(k, p) for k, p in net.named_parameters() if p.requires_grad]
                 for n, net in nets.items()}
        _check_disjoint(named)
        self.params = {n: [p for _, p in ps] for n, ps in named.items()}
        self.ddp_nets = {n: wrap_ddp(net, self.device, self.train_cfg.find_unused_parameters)
                         for n, net in nets.items()}
        self.nets = nets
        self._log_setup(nets)
        total = self.train_cfg.total_iters
        self.optimizers = {n: build_optimizer(named[n], c)
                           for n, c in self.train_cfg.optimizers.items()}
        self.schedulers = {n: build_scheduler(o, self.train_cfg.schedulers.get(n), total,
                                              f"train.schedulers.{n}")
                           for n, o in self.optimizers.items()}
        fp16 = self.train_cfg.amp == "fp16"
        self.scalers = {n: torch.amp.GradScaler(self.device.type, enabled=fp16)
                        for n in self.optimizers}
        ema_cfg = self.train_cfg.ema
        self.ema = EMA(self.model.net, ema_cfg.decay, ema_cfg.start_iter) if ema_cfg else None
        self.dataset = DATASETS.build(self.train_cfg.dataset)
        check_training_scale(self.model.net, self.dataset)
        self.iteration = 0
        self.best: float | None = None
        if resume is not None:
            self._resume(resume)
        self.evaluator = None
        if cfg.test is not None and self.train_cfg.val_every:
            self.evaluator = build_evaluator(cfg.test, self.exp_dir / "val", self.device,
                                             self.logger.info)
        self.run_log = RunLog(self.exp_dir, enabled=main, resumed_at=self.iteration)

    # ----------------------------------------------------------------------------- resume
    def _log_setup(self, nets: dict[str, torch.nn.Module]) -> None:
        """The head of train.log: what is trained, how big, and the resolved config."""
        for name, net in nets.items():
            trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
            frozen = sum(p.numel() for p in net.parameters() if not p.requires_grad)
            self.logger.info(f"network {name}: {trainable:,} trainable parameters"
                             + (f", {frozen:,} frozen" if frozen else ""))
        self.logger.info("resolved config:\n" + dump_config(resolved_dict(self.cfg)).rstrip())

    def _prepare_folder(self, resume: str | None, overwrite: bool) -> list[str]:
        """Refuse a folder that holds another run, archive it with ``overwrite``, lock it, and
        remove what killed runs left; the outcome is agreed so no rank starts alone."""
        check_experiment_folder(self.exp_dir, resume, overwrite)  # every rank, before writes
        barrier()
        notes, failure = [], None
        if self.dist.is_main:
            try:
                if overwrite and resume is None:
                    archived = archive_experiment_folder(self.exp_dir)
                    if archived is not None:
                        notes.append(f"--overwrite: the earlier run is now {archived}")
                self.lock = FolderLock(self.exp_dir)
                for path in remove_stale_temporaries(self.exp_dir):
                    notes.append(f"removed {path}, left by an interrupted run")
            except Exception as exc:  # noqa: BLE001 (re-raised below, after the agreement)
                failure = exc
        if not all_ranks(failure is None):
            raise failure or ExperimentFolderError(f"rank 0 could not prepare {self.exp_dir}")
        return notes

    def _resume(self, resume: str) -> None:
        """``auto``: the newest readable periodic checkpoint (a truncated newest one is passed
        over with a warning naming both); otherwise the given file."""
        if resume != "auto":
            self._load(Path(resume), ckpt.read_checkpoint(resume))
            return
        unreadable = []
        for _, path in reversed(ckpt.checkpoint_paths(self.ckpt_dir)):
            try:
                state = ckpt.read_checkpoint(path)
            except (ValueError, OSError) as exc:
                unreadable.append(path)
                self.logger.warning(f"{exc}")
                continue
            if unreadable:
                self.logger.warning(f"resuming from {path} instead of the unreadable "
                                    f"{', '.join(str(p) for p in unreadable)}")
            self._load(path, state)
            return
        if unreadable:
            raise CheckpointError(f"no readable checkpoint in {self.ckpt_dir} "
                                  f"({len(unreadable)} unreadable)")
        self.logger.info(f"--resume auto: no checkpoint in {self.ckpt_dir} yet, starting anew")

    def _state(self) -> dict:
        return {
            ckpt.MARKER: True,
            "iteration": self.iteration,
            "model": self.model.state_dict(),  # the inference net's weights are its "net.*"
            "ema": self.ema.state_dict() if self.ema else None,
            "optimizers": {n: o.state_dict() for n, o in self.optimizers.items()},
            "schedulers": {n: s.state_dict() for n, s in self.schedulers.items()},
            "scalers": {n: s.state_dict() for n, s in self.scalers.items()},
            "rng": ckpt.rng_state(),
            "samples_seen": self.iteration * self.train_cfg.batch_size,
            "best": self.best,
            "config": resolved_dict(self.cfg),
        }

    def _load(self, path: Path, state: dict) -> None:
        if not state.get(ckpt.MARKER):
            raise ValueError(f"{path} is not a vsr training checkpoint (use weights= to load "
                             f"pretrained weights instead)")
        self.model.load_state_dict(state["model"])
        if self.ema and state["ema"] is not None:
            self.ema.load_state_dict(state["ema"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
            self.schedulers[name].load_state_dict(state["schedulers"][name])
            self.scalers[name].load_state_dict(state["scalers"][name])
        ckpt.set_rng_state(state["rng"])
        self.iteration = state["iteration"]
        self.best = state["best"]
        self.logger.info(f"resumed from {path} at iteration {self.iteration}")

    def _save(self) -> None:
        if not self.dist.is_main:
            return
        ckpt.atomic_torch_save(self._state(), self.ckpt_dir / f"iter_{self.iteration:08d}.pth")
        ckpt.prune_checkpoints(self.ckpt_dir, self.train_cfg.checkpoint.keep_last)

    # ----------------------------------------------------------------------------- loop
    def _loader(self) -> DataLoader:
        sampler = InfiniteSampler(len(self.dataset), seed=self.cfg.seed, rank=self.dist.rank,
                                  world_size=self.dist.world_size,
                                  start=self.iteration * self.train_cfg.batch_size)
        # a private generator keeps worker seeding off the global RNG, so resume is exact
        return DataLoader(self.dataset, batch_size=self.train_cfg.batch_size, sampler=sampler,
                          num_workers=self.train_cfg.num_workers,
                          generator=torch.Generator().manual_seed(self.cfg.seed),
                          pin_memory=self.device.type == "cuda",
                          persistent_workers=self.train_cfg.num_workers > 0)

    def _autocast(self):
        if self.train_cfg.amp == "none":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=_AMP_DTYPES[self.train_cfg.amp])

    def train(self) -> dict[str, dict]:
        cfg = self.train_cfg
        ctx = _StepContext(self)
        batches = iter(self._loader())
        self.model.train()
        # the ETA is ours (validation included, vsr.engine.eta), shown in the postfix
        bar = tqdm(total=cfg.total_iters, initial=self.iteration, disable=not self.dist.is_main,
                   dynamic_ncols=True, mininterval=1.0, desc=self.cfg.name,
                   bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, {rate_fmt}{postfix}]")
        self.eta = EtaClock(cfg.total_iters, cfg.val_every if self.evaluator else None)
        window: dict[str, list[float]] = {}
        tick = time.perf_counter()
        logged_at = self.iteration
        scores: dict[str, dict] = {}
        self.logger.info(f"training {self.cfg.model['type']} on {self.device} "
                         f"(world size {self.dist.world_size}) from iteration {self.iteration} "
                         f"to {cfg.total_iters}")
        try:
            with deferred_sigint() as interrupted:
                while self.iteration < cfg.total_iters:
                    started, validation = time.perf_counter(), 0.0
                    logs = self._iteration(ctx, next(batches))
                    for key, value in logs.items():
                        window.setdefault(key, []).append(value)
                    bar.update(1)
                    last = self.iteration == cfg.total_iters
                    if self.iteration % cfg.log_every == 0 or last:
                        tick = self._log(window, logged_at, tick, bar)
                        window, logged_at = {}, self.iteration
                    if cfg.val_every and self.evaluator and (
                            self.iteration % cfg.val_every == 0 or last):
                        val_start = time.perf_counter()
                        scores = self._validate()
                        validation = time.perf_counter() - val_start
                        self.eta.validated(validation)
                    if self.iteration % cfg.checkpoint.every == 0 or last:
                        self._save()
                    self.eta.trained(time.perf_counter() - started - validation)
                    if not all_ranks(not interrupted()):  # Ctrl-C: stop alike on every rank
                        self._save()
                        raise Interrupted(f"at iteration {self.iteration}; its checkpoint is in "
                                          f"{self.ckpt_dir}: continue with --resume auto")
        finally:
            bar.close()
            self.run_log.close()
            if self.lock is not None:
                self.lock.release()
        if self.dist.enabled:
            self._check_ranks_agree()
        barrier()
        return scores

    def _iteration(self, ctx: _StepContext, batch: dict) -> dict[str, float]:
        """One training step of the model, then schedulers and EMA; returns what to log."""
        batch = {k: v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v
                 for k, v in batch.items()}
        ctx.iteration = self.iteration
        ctx.stepped = {}
        with self._autocast():
            logs = self.model.training_step(batch, ctx)
        if len(self.optimizers) > 1:  # how often each network was updated in the window
            logs = {**logs, **{f"updated/{n}": float(n in ctx.stepped) for n in self.optimizers}}
        for scheduler in self.schedulers.values():
            scheduler.step()
        self.iteration += 1
        if self.ema:
            self.ema.update(self.model.net, self.iteration)
        return logs

    def _log(self, window: dict[str, list[float]], since: int, tick: float, bar) -> float:
        summary = torch.tensor(list(window_summary(window).values()), dtype=torch.float64)
        values = dict(zip(window, mean_over_ranks(summary).tolist()))
        now = time.perf_counter()
        for name, opt in self.optimizers.items():
            values[f"lr/{name}"] = opt.param_groups[0]["lr"]
        values["it_per_s"] = (self.iteration - since) / max(now - tick, 1e-9)
        self.run_log.scalars(self.iteration, values)
        eta = self.eta.describe(self.iteration)
        bar.set_postfix({"eta": eta} | {k: f"{v:.4g}" for k, v in values.items()
                                         if not k.startswith("lr/")})
        text = ", ".join(f"{k} {v:.6g}" for k, v in values.items())
        self.logger.info(f"iter {self.iteration}/{self.train_cfg.total_iters}: {text}, eta {eta}")
        return now

    def _check_ranks_agree(self) -> None:
        """Parameters must be equal on every rank; buffers (BatchNorm statistics) are equal
        after rank 0's are broadcast, as DDP does before every forward."""
        for net in self.nets.values():
            broadcast_state(net, buffers_only=True)
        params = max_rank_difference([p for p in self.model.parameters()])
        buffers = max_rank_difference([b for b in self.model.buffers()])
        if params != 0.0 or buffers != 0.0:
            raise RuntimeError(f"ranks diverged: parameters differ by up to {params:g}, "
                               f"buffers by up to {buffers:g}")
        self.logger.info(f"parameters and buffers identical on {self.dist.world_size} ranks")

    def _validate(self) -> dict[str, dict]:
        scores: dict[str, dict] = {}
        if self.dist.is_main:
            net = self.ema.net if self.ema else self.model.net

            def sample(ds: str, clip: str, sr: torch.Tensor, gt: torch.Tensor | None) -> None:
                image = sr if gt is None else torch.cat([sr, gt], dim=-1)
                self.run_log.image(f"val/{ds}/{clip}", self.iteration, image)

            scores = self.evaluator.evaluate(net, on_first_frame=sample)
            flat = {f"val/{ds}/{m}": v for ds, ms in scores.items() for m, v in ms.items()}
            self.run_log.scalars(self.iteration, flat)
            self.logger.info(f"validation at {self.iteration}: " +
                             ", ".join(f"{k} {v:.4f}" for k, v in flat.items()))
            self._update_best(scores)
        barrier()
        return scores

    def _update_best(self, scores: dict[str, dict]) -> None:
        key = self.train_cfg.checkpoint.best_metric
        if not key:
            return
        ds, _, metric = key.partition("/")
        if ds not in scores or metric not in scores[ds]:
            raise ValueError(f"train.checkpoint.best_metric '{key}' is not among the validation "
                             f"results {[f'{d}/{m}' for d, ms in scores.items() for m in ms]}")
        value = scores[ds][metric]
        better = (self.best is None or
                  (value > self.best if self.train_cfg.checkpoint.best_mode == "max"
                   else value < self.best))
        if better and not math.isnan(value):
            self.best = value
            ckpt.atomic_torch_save(self._state(), self.ckpt_dir / "best.pth")
            self.logger.info(f"new best {key} = {value:.4f} at iteration {self.iteration}")


def _check_disjoint(named: dict[str, list[tuple[str, torch.nn.Parameter]]]) -> None:
    """One parameter belongs to one optimizer: otherwise two losses would update it."""
    owner: dict[int, str] = {}
    for name, params in named.items():
        for key, param in params:
            if id(param) in owner:
                raise ValueError(f"parameter {key} is trained by both optimizers "
                                 f"{owner[id(param)]} and {name}")
            owner[id(param)] = name
