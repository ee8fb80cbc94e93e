"""Registered GT-only datasets for training subprocesses (imported by the driver in
test_trainer.py): one sleeps per item, so a run can be killed at a predictable point; one
records the windows each rank draws."""

import os
import time

from vsr.data.video_folder import GTVideoFolder
from vsr.registry import DATASETS


@DATASETS.register("SlowGTVideoFolder")
class SlowGTVideoFolder(GTVideoFolder):
    def __getitem__(self, key):
        time.sleep(0.02)
        return super().__getitem__(key)


@DATASETS.register("RecordingGTVideoFolder")
class RecordingGTVideoFolder(GTVideoFolder):
    """Appends each item's index to ``$VSR_TEST_RECORD.<rank>``: which windows a rank drew."""

    def __getitem__(self, key):
        record = f"{os.environ['VSR_TEST_RECORD']}.{os.environ.get('RANK', '0')}"
        with open(record, "a") as out:
            out.write(f"{key[0]}\n")
        return super().__getitem__(key)
