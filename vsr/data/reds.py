"""REDS (MODELS.md §7.5), from frame folders or LMDBs.

Layout ``train_sharp/<clip>/<frame:08d>.png`` (GT) and ``train_sharp_bicubic/X4/<clip>/…`` (LR),
or LMDBs with keys ``000/00000000``; BasicSR regroups the 30 validation clips into the training
folder as 240–269. A partition names the held-out clips: the training set uses every other clip,
the test set exactly those. Clip lists and lengths come from ``meta_info`` or the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch.utils.data import Dataset

from vsr.data.degradation_spec import DegradationSpec
from vsr.data.storage import DataPathLike, FrameStore, open_store
from vsr.data.video_folder import (
    MetaEntries,
    VideoFolderTest,
    select_clips,
    window_training_set,
)
from vsr.registry import DATASETS

PARTITIONS: dict[str, tuple[str, ...]] = {
    "REDS4": ("000", "011", "015", "020"),  # from the original training set
    "official": tuple(f"{i:03d}" for i in range(240, 270)),  # the val clips, regrouped
}


def partition_clips(partition: str | Sequence[str]) -> list[str]:
    """Held-out clip names of a named partition ('REDS4', 'official') or an explicit list."""
    if isinstance(partition, str):
        if partition not in PARTITIONS:
            raise ValueError(
                f"unknown REDS partition {partition!r}; use one of {sorted(PARTITIONS)} "
                "or a list of clip names"
            )
        return list(PARTITIONS[partition])
    return list(partition)


@DATASETS.register()
class REDS(Dataset):
    """REDS training set: every window of ``num_frames`` frames of every clip outside the
    held-out ``partition``.

    LR comes from ``lr_root`` or from ``degradation``, as in ``PairedVideoFolder`` /
    ``GTVideoFolder`` (same item format and draws). ``meta_info`` (``meta_info_REDS_GT.txt``)
    gives clip names and lengths without listing the folders.
    """

    def __init__(
        self,
        gt_root: DataPathLike | FrameStore,
        num_frames: int,
        lr_root: DataPathLike | FrameStore | None = None,
        degradation: DegradationSpec | None = None,
        scale: int = 4,
        partition: str | list[str] = "REDS4",
        meta_info: DataPathLike | MetaEntries | None = None,
        gt_patch_size: int | tuple[int, int] | None = None,
        use_hflip: bool = True,
        use_vflip: bool = False,
        use_transpose: bool = False,
        use_reverse: bool = False,
    ) -> None:
        store = open_store(gt_root)
        meta_info = select_clips(store, meta_info, None)
        held_out = set(partition_clips(partition))
        train = [name for name, _, _ in meta_info if name not in held_out]
        if not train:
            raise ValueError(f"no REDS clip in {store.locate('')} is outside partition {partition}")
        self.windows = window_training_set(
            store,
            lr_root,
            degradation,
            scale=scale,
            num_frames=num_frames,
            gt_patch_size=gt_patch_size,
            meta_info=meta_info,
            clips=train,
            use_hflip=use_hflip,
            use_vflip=use_vflip,
            use_transpose=use_transpose,
            use_reverse=use_reverse,
        )

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        return self.windows[key]


@DATASETS.register()
class REDSTest(VideoFolderTest):
    """REDS test set: exactly the clips of ``partition`` (REDS4 by default), each streamed whole.

    Modes as ``VideoFolderTest``: paired (``lr_root`` + ``gt_root``), GT-only with a
    ``degradation``, or LR-only. A partition clip missing from the data is an error.
    """

    def __init__(
        self,
        gt_root: DataPathLike | FrameStore | None = None,
        lr_root: DataPathLike | FrameStore | None = None,
        degradation: DegradationSpec | None = None,
        scale: int = 4,
        partition: str | list[str] = "REDS4",
        meta_info: DataPathLike | MetaEntries | None = None,
    ) -> None:
        super().__init__(
            lr_root,
            gt_root,
            scale=scale,
            degradation=degradation,
            clips=partition_clips(partition),
            meta_info=meta_info,
        )
