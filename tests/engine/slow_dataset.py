"""A registered GT-only dataset that sleeps per item, so a training subprocess can be killed at
a predictable point (imported by the subprocess driver in test_trainer.py)."""

import time

from vsr.data.video_folder import GTVideoFolder
from vsr.registry import DATASETS


@DATASETS.register("SlowGTVideoFolder")
class SlowGTVideoFolder(GTVideoFolder):
    def __getitem__(self, key):
        time.sleep(0.02)
        return super().__getitem__(key)
