"""Iteration-based infinite sampler whose stream is a pure function of (seed, rank, position).

Training runs for a number of iterations, not epochs, so the sampler never ends. Each yielded
item is ``(index, sample_seed)``: datasets draw all their randomness from ``sample_seed``, which
makes a sample independent of worker processes, and a resumed run continues bit for bit by
starting at ``position = iterations x per-rank batch size`` — no sampler state to save.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler


class InfiniteSampler(Sampler[tuple[int, int]]):
    """Endless epochs of shuffled indices, split across ranks in equal strided shares.

    Epoch ``e`` shuffles with a generator seeded by ``(seed, e)``; the permutation is padded by
    wrapping around so that every rank gets ``ceil(len / world_size)`` samples per epoch (ranks
    stay in lockstep, so DDP never waits on a rank that ran out). Rank ``r`` takes positions
    ``r, r + world_size, ...`` of the padded permutation.
    """

    def __init__(
        self, dataset_len: int, seed: int, rank: int = 0, world_size: int = 1, start: int = 0
    ) -> None:
        if dataset_len <= 0:
            raise ValueError(f"dataset_len must be positive, got {dataset_len}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside world_size {world_size}")
        if start < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        self.dataset_len = dataset_len
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.start = start
        self.samples_per_epoch = -(-dataset_len // world_size)  # per rank

    def epoch_at(self, position: int) -> int:
        """Epoch that this rank's ``position``-th sample belongs to (for logging, resume)."""
        return position // self.samples_per_epoch

    def _epoch_indices(self, epoch: int) -> np.ndarray:
        perm = np.random.default_rng([self.seed, epoch]).permutation(self.dataset_len)
        padded = np.resize(perm, self.samples_per_epoch * self.world_size)  # wraps around
        return padded[self.rank :: self.world_size]

    def _sample_seed(self, epoch: int, slot: int) -> int:
        """A seed unique to (seed, epoch, slot in the padded permutation), hence to the rank."""
        state = np.random.SeedSequence([self.seed, epoch, slot]).generate_state(2)
        return int(state[0]) << 32 | int(state[1])

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch, offset = divmod(self.start, self.samples_per_epoch)
        while True:
            indices = self._epoch_indices(epoch)
            for j in range(offset, self.samples_per_epoch):
                slot = j * self.world_size + self.rank
                yield int(indices[j]), self._sample_seed(epoch, slot)
            epoch, offset = epoch + 1, 0
