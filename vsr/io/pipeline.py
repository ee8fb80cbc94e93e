"""Overlapping the stages of a frame pipeline with threads and bounded queues.

Decoding and encoding in PyAV (and most torch kernels) release the GIL, so a decode thread ahead
of the model and an encode thread behind it run the three stages at once. Memory stays bounded:
each queue holds at most ``depth`` items. A stage's exception reaches the thread that drives the
pipeline with its original type and traceback, plus a note naming the stage and item index; on
any exit (error, ``break``, ``KeyboardInterrupt``) the threads are stopped and joined.
With ``depth=0`` a stage runs inline, one item after another, as a baseline and for debugging.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Generic, TypeVar

from vsr.io.sink import ClosedOrAborted

T = TypeVar("T")

_POLL_S = 0.05  # how often a blocked thread looks whether the other side has stopped
_DONE = object()  # end-of-stream marker on a queue


def _note(exc: BaseException, stage: str, index: int) -> BaseException:
    exc.add_note(f"raised in the {stage} stage at item {index}")
    return exc


def _put(q: queue.Queue, item: object, go_on: Callable[[], bool]) -> bool:
    """Put ``item`` unless ``go_on()`` turns false while waiting for room; whether it was put."""
    while go_on():
        try:
            q.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False


class _Stage:
    """A daemon thread with a stop flag, joined on close; subclasses give it its loop."""

    def __init__(self, name: str, depth: int) -> None:
        if depth < 0:
            raise ValueError(f"queue depth of stage {name!r} must be >= 0, got {depth}")
        self.name = name
        self.depth = depth
        self._queue: queue.Queue = queue.Queue(maxsize=max(depth, 1))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _start(self, target: Callable[[], None]) -> None:
        if self.depth:
            self._thread = threading.Thread(target=target, name=f"vsr-{self.name}", daemon=True)
            self._thread.start()

    def _go_on(self) -> bool:
        return not self._stop.is_set()

    def _join(self) -> None:
        self._stop.set()
        if self._thread is not None:
            while self._thread.is_alive():
                self._drain()  # wakes a producer blocked on a full queue
                self._thread.join(timeout=_POLL_S)
            self._thread = None

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass

    @property
    def running(self) -> bool:
        """Whether the stage's thread is still alive (False once closed)."""
        return self._thread is not None and self._thread.is_alive()


class Prefetch(_Stage, Iterator[T], Generic[T]):
    """Iterate ``source`` on a thread, up to ``depth`` items ahead of the consumer.

    Use as a context manager (or call :meth:`close`) so that leaving the loop early stops the
    producer; the source iterator is closed on the producer's own thread.
    """

    def __init__(self, source: Iterable[T], depth: int = 8, name: str = "prefetch") -> None:
        super().__init__(name, depth)
        self._source = iter(source)
        self._index = 0
        self._finished = False
        self._start(self._produce)

    def _produce(self) -> None:
        index = 0
        try:
            for item in self._source:
                if not _put(self._queue, (item, None), self._go_on):
                    return
                index += 1
            _put(self._queue, (_DONE, None), self._go_on)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            _put(self._queue, (_DONE, _note(exc, self.name, index)), self._go_on)
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        if not self.depth:
            try:
                item = next(self._source)
            except StopIteration:
                self._finished = True
                raise
            except BaseException as exc:
                self._finished = True
                _note(exc, self.name, self._index)
                raise
            self._index += 1
            return item
        item, error = self._queue.get()
        if item is _DONE:
            self._finished = True
            self._join()
            if error is not None:
                raise error
            raise StopIteration
        self._index += 1
        return item

    def close(self) -> None:
        """Stop the producer and wait for its thread to end."""
        self._finished = True
        self._join()
        if not self.depth:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class WriteBehind(_Stage, ClosedOrAborted, Generic[T]):
    """Call ``write(item)`` on a thread for each :meth:`put` item, in order, up to ``depth``
    items behind the caller.

    A failed ``write`` is re-raised by the next :meth:`put` or by :meth:`close`; leaving the
    ``with`` block on an exception drops what is still queued.
    """

    def __init__(self, write: Callable[[T], None], depth: int = 8,
                 name: str = "write-behind") -> None:
        super().__init__(name, depth)
        self._write = write
        self._error: BaseException | None = None
        self._index = 0
        self._start(self._consume)

    def _consume(self) -> None:
        index = 0
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if item is _DONE:
                return
            try:
                self._write(item)
            except BaseException as exc:  # handed to the caller, which re-raises it
                self._error = _note(exc, self.name, index)
                return
            index += 1

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._join()
            raise error

    def put(self, item: T) -> None:
        """Queue ``item`` for writing (blocking while the queue is full)."""
        if not self.depth:
            try:
                self._write(item)
            except BaseException as exc:
                _note(exc, self.name, self._index)
                raise
        else:
            self._raise_error()
            if not _put(self._queue, item, lambda: self.running):
                self._raise_error()
                raise RuntimeError(f"stage {self.name!r} is closed")
        self._index += 1

    def close(self) -> None:
        """Write everything queued, stop the thread and re-raise a failed write."""
        if self._thread is not None:
            _put(self._queue, _DONE, lambda: self.running)
            while self.running:
                self._thread.join(timeout=_POLL_S)
        self._raise_error()
        self._join()

    def abort(self) -> None:
        """Drop what is still queued and stop the thread."""
        self._join()
        self._error = None

