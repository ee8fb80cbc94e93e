"""Prefetch / WriteBehind: order kept, queues bounded, errors surface with their stage and item,
and no thread outlives its stage."""

import threading
import time

import pytest

from vsr.io.pipeline import Prefetch, WriteBehind


class Counting:
    """An iterable that records how many items were taken from it and whether it was closed."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at, self.taken, self.closed = n, fail_at, 0, False

    def __iter__(self):
        try:
            for i in range(self.n):
                if i == self.fail_at:
                    raise ValueError(f"frame {i} is broken")
                self.taken += 1
                yield i
        finally:
            self.closed = True


def _settle(predicate, timeout: float = 2.0) -> None:
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        time.sleep(0.01)


def _no_stage_threads() -> bool:
    return not any(t.name.startswith("vsr-") for t in threading.enumerate())


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_prefetch_keeps_order(depth):
    with Prefetch(range(50), depth=depth) as items:
        assert list(items) == list(range(50))
    assert _no_stage_threads()


def test_prefetch_runs_at_most_depth_items_ahead():
    source = Counting(100)
    with Prefetch(source, depth=4) as items:
        time.sleep(0.3)  # the producer fills the queue and blocks
        assert source.taken == 5  # 4 queued + 1 waiting for room
        assert next(items) == 0
        _settle(lambda: source.taken == 6)
        time.sleep(0.1)
        assert source.taken == 6


def test_producer_error_reaches_the_consumer_with_message_and_index():
    source = Counting(10, fail_at=3)
    seen = []
    with pytest.raises(ValueError, match="frame 3 is broken") as info:
        with Prefetch(source, depth=2, name="decode") as items:
            seen.extend(items)
    assert seen == [0, 1, 2]
    assert "raised in the decode stage at item 3" in info.value.__notes__
    assert source.closed and _no_stage_threads()


def test_consumer_break_stops_and_joins_the_producer():
    source = Counting(10**6)
    with Prefetch(source, depth=2) as items:
        for i in items:
            if i == 5:
                break
    assert source.closed and source.taken < 20 and _no_stage_threads()


def test_consumer_exception_stops_the_producer():
    source = Counting(10**6)
    with pytest.raises(KeyboardInterrupt):
        with Prefetch(source, depth=2):
            raise KeyboardInterrupt
    assert source.closed and _no_stage_threads()


@pytest.mark.parametrize("depth", [0, 2])
def test_write_behind_writes_everything_in_order(depth):
    written = []
    with WriteBehind(written.append, depth=depth) as writer:
        for i in range(30):
            writer.put(i)
    assert written == list(range(30)) and _no_stage_threads()


def test_write_behind_holds_at_most_depth_items():
    gate, written = threading.Event(), []

    def slow_write(item):
        gate.wait()
        written.append(item)

    writer = WriteBehind(slow_write, depth=2)
    putter = threading.Thread(target=lambda: [writer.put(i) for i in range(10)])
    putter.start()
    time.sleep(0.3)  # 1 item in the writer's hands, 2 queued, the 4th put is blocked
    assert writer._queue.qsize() == 2 and putter.is_alive()
    gate.set()
    putter.join()
    writer.close()
    assert written == list(range(10)) and _no_stage_threads()


def test_write_error_surfaces_on_a_later_put_or_close():
    def write(item):
        if item == 4:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left") as info:
        with WriteBehind(write, depth=2, name="encode") as writer:
            for i in range(1000):
                writer.put(i)
                time.sleep(0.001)
    assert "raised in the encode stage at item 4" in info.value.__notes__
    assert _no_stage_threads()


def test_abort_drops_the_queue_and_stops_the_thread():
    written = []
    gate = threading.Event()
    with pytest.raises(RuntimeError, match="model failed"):
        with WriteBehind(lambda i: (gate.wait(), written.append(i)), depth=8) as writer:
            for i in range(5):
                writer.put(i)
            gate.set()
            raise RuntimeError("model failed")
    assert len(written) <= 5 and _no_stage_threads()
