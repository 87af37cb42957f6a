"""Link quality and safety from page heartbeats (pure, no rclpy; times in s from the caller's clock).

Page messages carry the page's clock (``t``, ms). ``PageClock`` turns it into an age on arrival: how
much longer this message took than the fastest one seen, so a message held in a stalled link (TCP
delivers the backlog at once when it recovers) is known to be old however late it arrives.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass
class LinkStats:
    rtt: float | None      # s, last round trip reported by the page (None before the first)
    lost: int              # heartbeats missing from the sequence numbers
    received: int
    age: float | None      # s since the last heartbeat (None before the first)


class PageClock:
    """Ages (s) of page-stamped messages of one connection, from the page's clock.

    The smallest (arrival - page time) seen is the link's base delay plus the clock offset; a message's
    age is how much its own difference exceeds it. The base may rise by ``drift`` s per s (clock drift
    between the page and here, far below 1e-3 for real clocks), so it never goes stale in a long session.
    """

    def __init__(self, drift: float = 1e-3):
        self.drift = drift
        self._base: float | None = None
        self._at = 0.0

    def age(self, page_ms: float, now: float) -> float:
        """Age in s of a message stamped ``page_ms`` (page clock, ms) arriving at ``now`` (s)."""
        sample = now - page_ms / 1000.0
        if self._base is None:
            self._base = sample
        else:
            self._base = min(self._base + self.drift * max(0.0, now - self._at), sample)
        self._at = now
        return sample - self._base


class LinkMonitor:
    """Tracks heartbeats of one connection: timeout, lost sequence numbers, round-trip times.

    A heartbeat keeps the link live only if it is in order and at most ``timeout`` s old by the page's
    clock: a backlog delivered after a stall does not revive a link that was dead.
    """

    def __init__(self, timeout: float, rtt_window: int = 20):
        if timeout <= 0:
            raise ValueError('timeout must be > 0 s')
        self.timeout = timeout
        self.clock = PageClock()
        self._last_time: float | None = None
        self._last_seq: int | None = None
        self._lost = 0
        self._received = 0
        self.stale = 0                 # heartbeats ignored: out of order or older than timeout
        self._rtts: deque[float] = deque(maxlen=rtt_window)

    def heartbeat(self, seq: int, now: float, page_ms: float | None = None) -> bool:
        """Record heartbeat ``seq`` stamped ``page_ms`` (page clock, ms; None: judged on arrival) received
        at ``now``; gaps in seq count as lost. True when it keeps the link live."""
        age = 0.0 if page_ms is None else self.clock.age(page_ms, now)
        self._received += 1
        if self._last_seq is not None and seq <= self._last_seq:
            self.stale += 1
            return False
        if self._last_seq is not None and seq > self._last_seq + 1:
            self._lost += seq - self._last_seq - 1
        self._last_seq = seq
        if age > self.timeout:
            self.stale += 1
            return False
        self._last_time = now - age
        return True

    def add_rtt(self, rtt: float) -> None:
        if rtt >= 0:
            self._rtts.append(rtt)

    def mean_rtt(self) -> float | None:
        return sum(self._rtts) / len(self._rtts) if self._rtts else None

    def expired(self, now: float) -> bool:
        """True when no live heartbeat was sent (by its age) within ``timeout`` (or none ever came)."""
        return self._last_time is None or now - self._last_time > self.timeout

    def stats(self, now: float) -> LinkStats:
        return LinkStats(self._rtts[-1] if self._rtts else None, self._lost, self._received,
                         None if self._last_time is None else now - self._last_time)
