"""The library's own error and warning types.

Everything vsr raises about its input (a config, a file, a frame, a flag) derives from
``VSRError``, so the command line can print it as one line and exit 2, while an error from inside
torch or numpy (a bug, ours or theirs) still shows its traceback.
"""

from __future__ import annotations


class VSRError(Exception):
    """Bad input, named: the message says which file, frame, key or flag and what was expected."""


class DeviceError(VSRError, RuntimeError):
    """The requested device is not available on this machine."""


class CheckpointError(VSRError, ValueError):
    """A file that is not a readable checkpoint."""


class WriteError(VSRError, OSError):
    """An output file could not be written; the message names it."""


class VSRWarning(UserWarning):
    """Input that was used with a change the user should know about (clamped, filled, dropped)."""


class TrainingDiverged(VSRError):
    """A loss or gradient became NaN or infinite; the message names the iteration and the loss."""


class Interrupted(VSRError):
    """The user pressed Ctrl-C; what was finished is saved (the message says where). Exit 130."""


class ClipError(VSRError, ValueError):
    """A test clip failed; the message names the dataset, clip and frame, and what went wrong."""
