"""The schema of an experiment config: what train.py, test.py and infer.py accept.

Fixed sections are dataclasses; anything built from a registry is a ``{type: Name, ...}`` spec
checked against its constructor. ``load_experiment`` is the one entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from vsr.config.data_root import data_root
from vsr.config.loader import Provenance, load_config
from vsr.config.schema import (
    NonNegativeFloat,
    NonNegativeInt,
    PlainName,
    PositiveFloat,
    PositiveInt,
    build_dataclass,
    to_dict,
)
from vsr.registry import DATASETS, METRICS, MODELS


@dataclass
class ParamGroupCfg:
    """Parameters whose name matches ``pattern`` (a regex) get ``lr_mult`` × the base LR and are
    frozen (LR 0) for the first ``frozen_iters`` iterations (e.g. RVRT's SpyNet)."""

    pattern: str
    lr_mult: NonNegativeFloat = 1.0
    frozen_iters: NonNegativeInt = 0


@dataclass
class OptimizerCfg:
    lr: NonNegativeFloat
    type: Literal["Adam", "AdamW"] = "Adam"
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    param_groups: list[ParamGroupCfg] = field(default_factory=list)
    grad_clip: float | None = None  # max gradient norm of this optimizer (default train.grad_clip)


@dataclass
class SchedulerCfg:
    """Per-iteration LR factor: linear warm-up, then constant, multi-step, cosine, or cyclic
    (triangular between the optimizer's ``lr`` and ``max_lr``, one cycle every ``period``
    iterations: up for half, down for half — VSRNet's recipe)."""

    type: Literal["constant", "multistep", "cosine", "cyclic"] = "constant"
    warmup_iters: NonNegativeInt = 0
    milestones: list[int] = field(default_factory=list)
    gamma: float = 0.5
    period: PositiveInt | None = None  # cosine/cyclic: iterations of one cycle (cosine: total)
    max_lr: PositiveFloat | None = None  # cyclic: the LR at the middle of each cycle
    eta_min_ratio: float = 0.0  # cosine: floor as a fraction of the base LR
    restarts: bool = False  # cosine: warm restarts every ``period``


@dataclass
class CheckpointCfg:
    every: PositiveInt = 1000
    keep_last: NonNegativeInt = 3
    best_metric: str | None = None  # "<dataset>/<metric>", e.g. "Vid4/PSNR"
    best_mode: Literal["max", "min"] = "max"


@dataclass
class EMACfg:
    decay: float = 0.999
    start_iter: int = 0


@dataclass
class TrainCfg:
    dataset: Annotated[dict, DATASETS]
    batch_size: PositiveInt
    total_iters: PositiveInt
    optimizers: dict[str, OptimizerCfg]
    schedulers: dict[str, SchedulerCfg] = field(default_factory=dict)
    num_workers: NonNegativeInt = 0
    amp: Literal["none", "bf16", "fp16"] = "none"
    grad_clip: PositiveFloat | None = None  # max gradient norm, for optimizers without their own
    sync_bn: bool = False  # BatchNorm statistics over the global batch of all ranks
    find_unused_parameters: bool = False  # DDP: a network may leave parameters unused in a step
    ema: EMACfg | None = None
    log_every: PositiveInt = 10
    val_every: PositiveInt | None = None  # validate on the ``test`` section every N iterations
    checkpoint: CheckpointCfg = field(default_factory=CheckpointCfg)


@dataclass
class TileCfg:
    """Spatial tiles of ``size`` [h, w] LR px sharing ``overlap`` LR px (vsr.archs.tiles)."""

    size: tuple[int, int]
    overlap: int = 16


@dataclass
class ChunkCfg:
    """Clip archs: chunks of ``frames`` sharing ``overlap`` frames (default a quarter), merged by
    ``policy`` (vsr.archs.sequence.ChunkSpec)."""

    frames: int = 16
    overlap: int | None = None
    policy: Literal["drop", "blend"] = "drop"


@dataclass
class SequenceStartCfg:
    """How each test clip begins (vsr.archs.sequence.SequenceStart): ``reflect_pad`` frames
    prepended and dropped (FRVSR/TecoGAN), or ``mirror`` (RVRT on Vimeo-90K-T)."""

    reflect_pad: NonNegativeInt = 0
    mirror: bool = False


@dataclass
class DatasetInferenceCfg:
    """Per-dataset replacements of ``test.tile`` / ``test.chunk`` / ``test.sequence_start``
    (unset: the test-wide one)."""

    tile: TileCfg | None = None
    chunk: ChunkCfg | None = None
    sequence_start: SequenceStartCfg | None = None


@dataclass
class TestCfg:
    datasets: dict[str, Annotated[dict, DATASETS]]
    metrics: dict[str, Annotated[dict, METRICS]] = field(default_factory=dict)  # name -> spec
    save_images: bool = False  # SR frames as visual/<dataset>/<clip>/%08d.png
    save_video: bool = False  # SR of each clip as visual/<dataset>/<clip>.mp4 (H.264)
    draw_overlay: bool = False  # saved frames/videos show what the arch did (FOCAS: gaze, regions)
    batch_frames: PositiveInt = 8  # frames per forward for frame/window models
    chunk: ChunkCfg = field(default_factory=ChunkCfg)  # clip models: temporal chunks
    tile: TileCfg | None = None  # spatial tiles for every model (None: whole frames)
    per_dataset: dict[str, DatasetInferenceCfg] = field(default_factory=dict)  # name -> overrides
    sequence_start: SequenceStartCfg | None = None  # None: the arch's own (``sequence_start``)
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"  # autocast dtype of the model calls
    channels_last: bool = False  # NHWC parameters and frame inputs
    # how frame values become a set's number: per clip then over clips, over all frames of the
    # set, or per segment of ``segment_frames`` frames, then segments, then clips (FOCAS)
    averaging: Literal["clip", "frame", "segment"] = "clip"
    segment_frames: PositiveInt = 50


@dataclass
class ExperimentCfg:
    name: Annotated[str, PlainName]
    model: Annotated[dict, MODELS]
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    output_root: str = "experiments"
    # where relative dataset paths are read (vsr.config.data_root): unset, VSR_DATA or 'data'
    data_root: str | None = None
    weights: str | None = None  # test/infer: weights to run; train: initial weights
    # train: false loads the keys of ``weights`` that fit and keeps the rest at initialisation
    # (x4 from x2 weights: the upsampling layer), logging what was skipped
    weights_strict: bool = True
    train: TrainCfg | None = None
    test: TestCfg | None = None
    notes: str | None = None  # free text, e.g. the published numbers this config reproduces

    @property
    def experiment_dir(self) -> Path:
        return Path(self.output_root) / self.name


def validate_experiment(raw: dict, prov: Provenance, check_paths: bool = True) -> ExperimentCfg:
    """The typed config. Dataset paths are resolved under the data root (recorded, absolute, in
    ``data_root``) and, with ``check_paths``, must exist."""
    prov.data_root = data_root(raw.get("data_root") if isinstance(raw, dict) else None)
    prov.check_paths = check_paths
    cfg = build_dataclass(ExperimentCfg, raw, "", prov)
    cfg.data_root = str(prov.data_root[0])
    return cfg


def load_experiment(path: str | Path, overrides: list[str] | None = None,
                    check_paths: bool = True) -> ExperimentCfg:
    """Load, merge, override and validate; errors name the file and the dotted key."""
    raw, prov = load_config(path, overrides)
    return validate_experiment(raw, prov, check_paths)


def resolved_dict(cfg: ExperimentCfg) -> dict:
    return to_dict(cfg)
