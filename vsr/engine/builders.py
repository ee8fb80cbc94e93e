"""Objects every entry point builds the same way from a validated config."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from vsr.config.experiment import TestCfg
from vsr.config.loader import ConfigError
from vsr.engine.evaluator import Evaluator
from vsr.metrics.protocol import Averaging
from vsr.registry import DATASETS, METRICS


def build_evaluator(test: TestCfg, out_dir: Path, device: torch.device, log=print) -> Evaluator:
    datasets = {name: DATASETS.build(spec) for name, spec in test.datasets.items()}
    metrics = {name: METRICS.build(spec) for name, spec in test.metrics.items()}
    return Evaluator(datasets, metrics, out_dir, device, test.save_images, test.batch_frames,
                     test.chunk_frames, log, save_video=test.save_video,
                     draw_overlay=test.draw_overlay,
                     averaging=Averaging(test.averaging, test.segment_frames))


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
