"""Scoring protocols for ``vsr evaluate``: the part of a test config that turns (SR, GT) frame
pairs into numbers — metric specs, averaging, and the GT reflect pad some protocols score through.

A named protocol *is* a test-config fragment of ``configs/_base_``, the same file the test configs
of that protocol inherit, so saved outputs scored with ``--protocol rrn`` meet exactly the metric
objects ``vsr test`` builds for an RRN config; ``-c CONFIG`` takes the same part of any test config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from vsr.config.data_root import data_root
from vsr.config.loader import ConfigError, load_config
from vsr.config.schema import NonNegativeInt, PositiveInt, build_dataclass
from vsr.metrics.protocol import Averaging
from vsr.registry import METRICS

FRAGMENTS = Path(__file__).resolve().parents[2] / "configs" / "_base_"

# name -> (fragment in configs/_base_, what it is)
PROTOCOLS: dict[str, tuple[str, str]] = {
    "rrn": ("vid4_bd_rrn.yaml", "RRN's test.py: Y (MATLAB), GT reflect-padded by 8 px and 8 px "
            "cropped, all frames, float"),
    "basicvsr": ("vid4_bi_x4.yaml", "BasicVSR/RVRT Vid4 tables: Y (MATLAB), no crop, all frames"),
    "tecogan": ("vid4_bd_tecogan.yaml", "TecoGAN official_metrics: uint8 SR, first and last 2 "
                "frames cut, crop_8x8, Y (DUF); PSNR, TecoGAN's SSIM, tOF"),
    "reds4-rgb": ("reds4_bi_x4.yaml", "RVRT/BasicVSR REDS4 tables: RGB, no crop, all frames, "
                  "uint8 SR"),
}


@dataclass
class ScoringCfg:
    """The keys of a ``test`` section that scoring reads (the rest says how SR is computed)."""

    metrics: dict[str, Annotated[dict, METRICS]]
    averaging: Literal["clip", "frame", "segment"] = "clip"
    segment_frames: PositiveInt = 50


@dataclass
class _DatasetScoring:
    """What scoring reads of a test dataset: how its GT frames are presented to the metrics."""

    gt_reflect_pad: NonNegativeInt = 0


@dataclass(frozen=True)
class ScoringProtocol:
    """Metric specs and averaging of one test config, with where they came from."""

    name: str  # the protocol's name, or the config's path
    source: str  # the config file
    dataset: str  # the test dataset whose name the results carry
    metrics: dict[str, dict]
    averaging: Averaging
    gt_reflect_pad: int = 0  # GT frames reflect-padded by this many px before scoring (RRN)

    def build_metrics(self) -> dict[str, object]:
        return {name: METRICS.build(spec) for name, spec in self.metrics.items()}

    def describe(self) -> dict:
        """For the run record and ``protocol.yaml``."""
        return {"protocol": self.name, "source": self.source, "dataset": self.dataset,
                "metrics": self.metrics, "averaging": self.averaging.describe(),
                "gt_reflect_pad": self.gt_reflect_pad}


def protocol_file(name: str) -> Path:
    if name not in PROTOCOLS:
        raise ConfigError(f"--protocol {name!r}: unknown protocol; expected one of "
                          f"{', '.join(PROTOCOLS)} (or -c CONFIG for a test config's)")
    return FRAGMENTS / PROTOCOLS[name][0]


def load_protocol(name: str | None = None, config: str | Path | None = None,
                  overrides: list[str] | None = None, dataset: str | None = None
                  ) -> ScoringProtocol:
    """The protocol named ``name`` (a fragment of configs/_base_) or the one of test config
    ``config``, with dotted ``overrides`` (e.g. ``test.averaging=frame``). ``dataset`` picks one
    of several test datasets (default: the only one)."""
    if (name is None) == (config is None):
        raise ConfigError("give a protocol name (--protocol) or a test config (-c), not both")
    path = protocol_file(name) if name is not None else Path(config)
    raw, prov = load_config(path, overrides)
    prov.data_root = data_root(raw.get("data_root"))
    source = str(path)
    test = raw.get("test")
    if not isinstance(test, dict) or not test.get("metrics"):
        raise ConfigError(f"{source}: no 'test.metrics' to score with (a test config or a "
                          f"protocol fragment names its metrics there)")
    datasets = test.get("datasets") or {}
    if dataset is None:
        if len(datasets) > 1:
            raise ConfigError(f"{source}: test datasets {', '.join(datasets)}: choose the one "
                              f"whose scoring to use with --dataset")
        dataset = next(iter(datasets), "outputs")
    elif dataset not in datasets:
        raise ConfigError(f"--dataset {dataset!r}: {source} has no such test dataset "
                          f"(datasets: {', '.join(datasets) or 'none'})")
    own = datasets.get(dataset) or {}
    pad = build_dataclass(_DatasetScoring, {"gt_reflect_pad": own.get("gt_reflect_pad", 0)},
                          f"test.datasets.{dataset}", prov).gt_reflect_pad
    keys = {k: test[k] for k in ("metrics", "averaging", "segment_frames") if k in test}
    scoring = build_dataclass(ScoringCfg, keys, "test", prov)
    try:
        averaging = Averaging(scoring.averaging, scoring.segment_frames)
    except ValueError as exc:
        raise ConfigError(f"{source}: 'test.averaging': {exc}") from None
    return ScoringProtocol(name or str(config), source, dataset, dict(scoring.metrics),
                           averaging, pad)
