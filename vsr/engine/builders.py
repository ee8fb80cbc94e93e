"""Objects every entry point builds the same way from a validated config."""

from __future__ import annotations

from pathlib import Path

import torch

from vsr.config.experiment import TestCfg
from vsr.engine.evaluator import Evaluator
from vsr.registry import DATASETS, METRICS


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("device: cuda was requested but no CUDA device is available")
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def build_evaluator(test: TestCfg, out_dir: Path, device: torch.device, log=print) -> Evaluator:
    datasets = {name: DATASETS.build(spec) for name, spec in test.datasets.items()}
    metrics = {name: METRICS.build(spec) for name, spec in test.metrics.items()}
    return Evaluator(datasets, metrics, out_dir, device, test.save_images, test.batch_frames,
                     test.chunk_frames, log, save_video=test.save_video, draw_gaze=test.draw_gaze)
