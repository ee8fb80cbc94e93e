"""InfiniteSampler: reproducible, equal disjoint rank shares, exact resume by position."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from vsr.data.sampler import InfiniteSampler


def _take(sampler: InfiniteSampler, n: int) -> list[tuple[int, int]]:
    return list(itertools.islice(sampler, n))


def test_same_arguments_same_stream_and_seed_changes_it() -> None:
    a = _take(InfiniteSampler(13, seed=7), 40)
    assert a == _take(InfiniteSampler(13, seed=7), 40)
    assert [i for i, _ in a] != [i for i, _ in _take(InfiniteSampler(13, seed=8), 40)]


def test_each_epoch_is_a_fresh_permutation() -> None:
    stream = [i for i, _ in _take(InfiniteSampler(20, seed=0), 60)]
    epochs = [stream[k : k + 20] for k in (0, 20, 40)]
    for epoch in epochs:
        assert sorted(epoch) == list(range(20))
    assert epochs[0] != epochs[1] != epochs[2]


def test_ranks_get_equal_disjoint_shares_covering_the_epoch() -> None:
    n, world = 10, 3
    samplers = [InfiniteSampler(n, seed=3, rank=r, world_size=world) for r in range(world)]
    assert all(s.samples_per_epoch == 4 for s in samplers)
    shares = [_take(s, 4) for s in samplers]
    indices = Counter(i for share in shares for i, _ in share)
    assert set(indices) == set(range(n))
    assert sum(indices.values()) == 12 and sum(c - 1 for c in indices.values()) == 2  # 2 padding
    # The shares are strided slices of one epoch permutation (padded by wrapping).
    single = [i for i, _ in _take(InfiniteSampler(n, seed=3), n)]
    padded = single + single[:2]
    for r, share in enumerate(shares):
        assert [i for i, _ in share] == padded[r::world]
    seeds = [s for share in shares for _, s in share]
    assert len(set(seeds)) == len(seeds)


def test_sample_seeds_are_distinct_64_bit_ints() -> None:
    seeds = [s for _, s in _take(InfiniteSampler(5, seed=1), 500)]
    assert len(set(seeds)) == 500
    assert all(0 <= s < 2**64 for s in seeds) and max(seeds) > 2**32


@pytest.mark.parametrize("world_size,rank", [(1, 0), (4, 2)])
@pytest.mark.parametrize("start", [0, 1, 6, 7, 25])
def test_resume_start_equals_skipping(world_size: int, rank: int, start: int) -> None:
    full = InfiniteSampler(7, seed=11, rank=rank, world_size=world_size)
    resumed = InfiniteSampler(7, seed=11, rank=rank, world_size=world_size, start=start)
    assert _take(resumed, 20) == list(itertools.islice(full, start, start + 20))
    assert full.epoch_at(start) == start // full.samples_per_epoch


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        InfiniteSampler(0, seed=0)
    with pytest.raises(ValueError, match="rank 2 is outside world_size 2"):
        InfiniteSampler(5, seed=0, rank=2, world_size=2)
    with pytest.raises(ValueError, match="start"):
        InfiniteSampler(5, seed=0, start=-1)


class _KeyEcho(Dataset):
    def __len__(self) -> int:
        return 5

    def __getitem__(self, key: tuple[int, int]) -> torch.Tensor:
        index, seed = key
        return torch.tensor([index, seed % 1000])


def test_dataloader_passes_index_seed_tuples() -> None:
    sampler = InfiniteSampler(5, seed=2)
    loader = DataLoader(_KeyEcho(), batch_size=3, sampler=sampler)
    batch = next(iter(loader))
    expected = _take(InfiniteSampler(5, seed=2), 3)
    assert batch.tolist() == [[i, s % 1000] for i, s in expected]
