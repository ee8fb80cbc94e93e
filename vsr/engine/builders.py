"""Objects every entry point builds the same way from a validated config."""

from __future__ import annotations

from pathlib import Path

import torch

from vsr.config.experiment import TestCfg
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
