"""Time left in a training run, validation included.

tqdm's ETA divides the iterations left by a smoothed iteration rate: a validation pass shows up
as one very slow iteration, so the estimate jumps after each pass and, between passes, leaves the
passes still to come out. Here the two are kept apart: seconds per training iteration (steps,
logging, checkpoints) times the iterations left, plus the mean validation pass times the passes
still due.
"""

from __future__ import annotations

import datetime


class EtaClock:
    def __init__(self, total_iters: int, val_every: int | None) -> None:
        self.total_iters = total_iters
        self.val_every = val_every or None
        self.train_seconds = 0.0
        self.train_iters = 0
        self.val_seconds: list[float] = []

    def trained(self, seconds: float, iters: int = 1) -> None:
        self.train_seconds += seconds
        self.train_iters += iters

    def validated(self, seconds: float) -> None:
        self.val_seconds.append(seconds)

    def validations_left(self, iteration: int) -> int:
        """Passes after ``iteration``: every ``val_every`` iterations and at the last one."""
        if self.val_every is None or iteration >= self.total_iters:
            return 0
        periodic = self.total_iters // self.val_every - iteration // self.val_every
        return periodic + (self.total_iters % self.val_every != 0)

    def seconds_left(self, iteration: int) -> float | None:
        """None until one training iteration was timed; validation counts once one pass was
        (until then the estimate is of training alone)."""
        if self.train_iters == 0:
            return None
        left = (self.total_iters - iteration) * self.train_seconds / self.train_iters
        if self.val_seconds:
            mean_pass = sum(self.val_seconds) / len(self.val_seconds)
            left += self.validations_left(iteration) * mean_pass
        return left

    def describe(self, iteration: int) -> str:
        left = self.seconds_left(iteration)
        if left is None:
            return "?"
        text = str(datetime.timedelta(seconds=round(left)))
        if self.validations_left(iteration) and not self.val_seconds:
            text += " + validation"
        return text
