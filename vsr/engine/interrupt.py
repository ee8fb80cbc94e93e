"""Ctrl-C during training, deferred to the end of the iteration in progress, so the checkpoint
written then holds one consistent state (a GAN is never saved between its two updates)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def deferred_sigint() -> Iterator[Callable[[], bool]]:
    """Inside, the first SIGINT only sets a flag (the yielded callable reports it); a second one
    interrupts at once as usual. Outside the main thread signals cannot be caught: no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    pressed = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame) -> None:
        pressed.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, handler)
    try:
        yield pressed.is_set
    finally:
        signal.signal(signal.SIGINT, previous)
