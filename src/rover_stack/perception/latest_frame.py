"""A one-slot mailbox for frames: the subscriber puts, the worker takes the newest; overwritten frames
that were never taken are counted as dropped. Thread-safe; no ROS imports. ``SequenceGaps`` counts the
frames that never reached the subscriber, from the publisher's sequence numbers.
"""
from __future__ import annotations

import threading
from typing import Any


class LatestFrame:
    """Holds at most one pending item. ``put`` replaces (and counts a drop for) an untaken item."""

    def __init__(self):
        self._condition = threading.Condition()
        self._item: Any = None
        self._pending = False
        self._closed = False
        self.received = 0
        self.taken = 0
        self.dropped = 0

    def put(self, item: Any) -> None:
        with self._condition:
            self.received += 1
            if self._pending:
                self.dropped += 1
            self._item, self._pending = item, True
            self._condition.notify()

    def count_dropped(self, count: int) -> None:
        """Count ``count`` items that were dropped before they reached ``put`` (received and dropped)."""
        if count > 0:
            with self._condition:
                self.received += count
                self.dropped += count

    def take(self, timeout: float | None = 0.0) -> Any:
        """The pending item (clearing the slot), waiting up to ``timeout`` s (None = until one comes or
        ``close``); None if nothing came."""
        with self._condition:
            if not self._pending and timeout != 0.0 and not self._closed:
                self._condition.wait_for(lambda: self._pending or self._closed, timeout)
            if not self._pending:
                return None
            item, self._item, self._pending = self._item, None, False
            self.taken += 1
            return item

    @property
    def pending(self) -> bool:
        with self._condition:
            return self._pending

    def close(self) -> None:
        """Wake any waiting ``take`` for good (used on shutdown)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def counts(self) -> dict[str, int]:
        with self._condition:
            return {'received': self.received, 'processed': self.taken, 'dropped': self.dropped,
                    'pending': int(self._pending)}


class SequenceGaps:
    """Frames a publisher sent that never reached the callback, from its publication sequence numbers.

    A number not above the previous one means a new publisher (a restarted camera): counting restarts.
    """

    def __init__(self):
        self._last: int | None = None

    def missed_before(self, sequence: int | None) -> int:
        """Frames skipped between the previous frame and this one (0 when unknown)."""
        if not sequence:   # None or 0: the RMW does not report sequence numbers
            return 0
        last, self._last = self._last, sequence
        if last is None or sequence <= last:
            return 0
        return sequence - last - 1
