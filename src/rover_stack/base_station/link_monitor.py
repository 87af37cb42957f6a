"""Link quality and safety from page heartbeats (pure, no rclpy; times in s from the caller's clock)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass
class LinkStats:
    rtt: float | None      # s, last round trip reported by the page (None before the first)
    lost: int              # heartbeats missing from the sequence numbers
    received: int
    age: float | None      # s since the last heartbeat (None before the first)


class LinkMonitor:
    """Tracks heartbeats of one connection: timeout, lost sequence numbers, round-trip times."""

    def __init__(self, timeout: float, rtt_window: int = 20):
        if timeout <= 0:
            raise ValueError('timeout must be > 0 s')
        self.timeout = timeout
        self._last_time: float | None = None
        self._last_seq: int | None = None
        self._lost = 0
        self._received = 0
        self._rtts: deque[float] = deque(maxlen=rtt_window)

    def heartbeat(self, seq: int, now: float) -> None:
        """Record heartbeat ``seq`` received at ``now``; gaps in seq count as lost."""
        if self._last_seq is not None and seq > self._last_seq + 1:
            self._lost += seq - self._last_seq - 1
        if self._last_seq is None or seq > self._last_seq:
            self._last_seq = seq
        self._last_time = now
        self._received += 1

    def add_rtt(self, rtt: float) -> None:
        if rtt >= 0:
            self._rtts.append(rtt)

    def mean_rtt(self) -> float | None:
        return sum(self._rtts) / len(self._rtts) if self._rtts else None

    def expired(self, now: float) -> bool:
        """True when no heartbeat came for more than ``timeout`` (or none ever came)."""
        return self._last_time is None or now - self._last_time > self.timeout

    def stats(self, now: float) -> LinkStats:
        return LinkStats(self._rtts[-1] if self._rtts else None, self._lost, self._received,
                         None if self._last_time is None else now - self._last_time)
