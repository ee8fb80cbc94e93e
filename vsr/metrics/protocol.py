"""Evaluation protocols: the choices that make PSNR/SSIM numbers comparable or not.

Published tables differ in channel, Y formula, border crop, skipped frames and whether the output
was quantised to 8 bit (MODELS.md §7.3). A Protocol names all of them, and its ``describe()`` goes
next to every number we report.
"""

from __future__ import annotations

from dataclasses import dataclass

from vsr.metrics.color import Y_FORMULAS

CHANNELS = ("rgb", "y")


@dataclass(frozen=True)
class Protocol:
    """How a metric turns an (SR, GT) frame pair into the numbers a paper reports.

    ``skip_first``/``skip_last`` are applied by the evaluator (the metric sees single frames);
    ``crop_border``, ``channel``, ``y_formula`` and ``round_to_8bit`` by the metric.
    """

    channel: str = "y"
    y_formula: str = "matlab"
    crop_border: int = 0
    skip_first: int = 0
    skip_last: int = 0
    round_to_8bit: bool = False

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}; expected one of {CHANNELS}")
        if self.y_formula not in Y_FORMULAS:
            raise ValueError(
                f"unknown y_formula {self.y_formula!r}; expected one of {sorted(Y_FORMULAS)}"
            )
        for name in ("crop_border", "skip_first", "skip_last"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    def describe(self) -> str:
        """One line for results tables, e.g. ``Y(matlab), crop 8 px, all frames, float``."""
        channel = f"Y({self.y_formula})" if self.channel == "y" else "RGB"
        crop = f"crop {self.crop_border} px" if self.crop_border else "no crop"
        if self.skip_first or self.skip_last:
            frames = f"frames skip first {self.skip_first}, last {self.skip_last}"
        else:
            frames = "all frames"
        rounding = "uint8" if self.round_to_8bit else "float"
        return f"{channel}, {crop}, {frames}, {rounding}"
