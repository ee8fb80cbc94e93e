"""Objects every entry point builds the same way from a validated config."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from vsr.archs.precision import Precision
from vsr.archs.sequence import ChunkSpec, SequenceStart
from vsr.archs.tiles import TileSpec
from vsr.config.experiment import ChunkCfg, SequenceStartCfg, TestCfg, TileCfg
from vsr.config.loader import ConfigError
from vsr.engine.evaluator import Evaluator
from vsr.metrics.protocol import Averaging
from vsr.registry import DATASETS, METRICS


def build_evaluator(test: TestCfg, out_dir: Path, device: torch.device, log=print,
                    resume: bool = False, run_info: dict | None = None) -> Evaluator:
    datasets = {name: DATASETS.build(spec) for name, spec in test.datasets.items()}
    metrics = {name: METRICS.build(spec) for name, spec in test.metrics.items()}
    per_dataset = {}
    for name, own in test.per_dataset.items():
        if name not in test.datasets:
            raise ConfigError(f"test.per_dataset.{name}: no such test dataset (datasets: "
                              f"{', '.join(test.datasets)})")
        per_dataset[name] = {}
        if own.tile is not None:
            per_dataset[name]["tile"] = tile_spec(own.tile, f"test.per_dataset.{name}.tile")
        if own.chunk is not None:
            per_dataset[name]["chunk"] = chunk_spec(own.chunk, f"test.per_dataset.{name}.chunk")
        if own.sequence_start is not None:
            per_dataset[name]["start"] = start_policy(own.sequence_start,
                                                      f"test.per_dataset.{name}.sequence_start")
    return Evaluator(datasets, metrics, out_dir, device, test.save_images, test.batch_frames,
                     chunk_spec(test.chunk, "test.chunk"), log, save_video=test.save_video,
                     draw_overlay=test.draw_overlay,
                     averaging=Averaging(test.averaging, test.segment_frames),
                     tile=tile_spec(test.tile, "test.tile") if test.tile else None,
                     per_dataset=per_dataset,
                     precision=Precision(test.precision, test.channels_last),
                     start=start_policy(test.sequence_start, "test.sequence_start")
                     if test.sequence_start else None,
                     resume=resume, run_info=run_info)


def tile_spec(cfg: TileCfg, key: str) -> TileSpec:
    try:
        return TileSpec(tuple(cfg.size), cfg.overlap)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def start_policy(cfg: SequenceStartCfg, key: str) -> SequenceStart:
    try:
        return SequenceStart(cfg.reflect_pad, cfg.mirror)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def chunk_spec(cfg: ChunkCfg, key: str) -> ChunkSpec:
    try:
        return ChunkSpec(cfg.frames, cfg.overlap, cfg.policy)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def check_training_scale(net: nn.Module, dataset: object, key: str = "train.dataset") -> None:
    """The network's upscaling factor against the training data's ``scale`` (each part of a
    ``ConcatDataset``): a mismatch would otherwise surface as a shape error deep in the loss."""
    net_scale = getattr(net, "scale", None)
    for index, part in enumerate(getattr(dataset, "parts", None) or [dataset]):
        data_scale = getattr(part, "scale", None)
        if net_scale is None or data_scale is None or data_scale == net_scale:
            continue
        where = f"{key}.datasets.{index}" if hasattr(dataset, "parts") else key
        raise ConfigError(f"'{where}.scale' is {data_scale} but the model ({type(net).__name__}, "
                          f"'model.arch.scale') upscales by {net_scale}; make them equal")
