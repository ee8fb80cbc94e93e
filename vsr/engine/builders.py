"""Objects every entry point builds the same way from a validated config."""

from __future__ import annotations

from pathlib import Path

import torch

from vsr.archs.precision import Precision
from vsr.archs.sequence import ChunkSpec
from vsr.archs.tiles import TileSpec
from vsr.config.experiment import ChunkCfg, TestCfg, TileCfg
from vsr.config.loader import ConfigError
from vsr.engine.evaluator import Evaluator
from vsr.registry import DATASETS, METRICS


def build_evaluator(test: TestCfg, out_dir: Path, device: torch.device, log=print) -> Evaluator:
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
    return Evaluator(datasets, metrics, out_dir, device, test.save_images, test.batch_frames,
                     chunk_spec(test.chunk, "test.chunk"), log, save_video=test.save_video,
                     draw_overlay=test.draw_overlay,
                     tile=tile_spec(test.tile, "test.tile") if test.tile else None,
                     per_dataset=per_dataset,
                     precision=Precision(test.precision, test.channels_last))


def tile_spec(cfg: TileCfg, key: str) -> TileSpec:
    try:
        return TileSpec(tuple(cfg.size), cfg.overlap)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def chunk_spec(cfg: ChunkCfg, key: str) -> ChunkSpec:
    try:
        return ChunkSpec(cfg.frames, cfg.overlap, cfg.policy)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None
