"""The frame-sink interface shared by video files and frame folders."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

import numpy as np


class ClosedOrAborted(ABC):
    """A context manager that finishes with ``close()`` when its block succeeds and gives up with
    ``abort()`` when it raises (a sink, a write-behind queue)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def abort(self) -> None: ...

    def __enter__(self):
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class FrameSink(ClosedOrAborted):
    """Takes uint8 RGB frames; a sink closed after an error keeps no output it cannot vouch
    for."""

    @abstractmethod
    def write(self, frame: np.ndarray) -> None: ...
