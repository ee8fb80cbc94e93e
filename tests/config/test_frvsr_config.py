"""configs/frvsr: FRVSR on Vid4 BD under TecoGAN's protocol inherits the shared fragment as is."""

from __future__ import annotations

from pathlib import Path

from vsr.archs.frvsr import FRNet
from vsr.archs.sequence import SequenceStart, sequence_start
from vsr.config.experiment import load_experiment
from vsr.registry import ARCHS, METRICS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "frvsr" / "frvsr_x4_vid4_bd_tecogan.yaml"


def test_frvsr_vid4_bd_tecogan_config_validates_and_builds() -> None:
    cfg = load_experiment(CONFIG, check_paths=False)
    base = load_experiment(ROOT / "configs" / "bicubic" / "bicubic_x4_vid4_bd_tecogan.yaml",
                           check_paths=False)
    assert cfg.name == "frvsr_x4_vid4_bd_tecogan"
    assert cfg.test == base.test  # the TecoGAN protocol fragment, unchanged
    assert cfg.test.datasets["Vid4"]["degradation"] == {"type": "BD_TecoGAN", "mode": "png"}
    assert set(cfg.test.metrics) == {"PSNR", "SSIM", "tOF"}
    for spec in cfg.test.metrics.values():
        METRICS.build(spec)
    arch = ARCHS.build(cfg.model["arch"])
    assert isinstance(arch, FRNet) and (arch.scale, arch.degradation) == (4, "BD")
    assert sum(p.numel() for p in arch.parameters()) == 2_589_093
    assert cfg.test.sequence_start is None  # so the arch's own start applies
    assert sequence_start(arch) == SequenceStart(reflect_pad=5)
