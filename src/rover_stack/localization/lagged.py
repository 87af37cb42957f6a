"""Late measurements: rewind the filter and replay (robot_localization's ``smooth_lagged_data``).

The EKF node applies measurements in stamp order once they are ``queue_delay`` old. On a loaded
machine a publisher can be starved for longer than that (measured in CI: wheel odometry 0.5 s late),
and the filter, already past the stamp, would have to drop the measurement ('out_of_order'). Here the
filter's state is kept after every batch for the last ``history`` s, with the measurements applied:
a batch holding a late measurement restores the newest snapshot at or before its stamp and re-applies
everything since, merged in stamp order. Measurements older than the history are still rejected.

A rewind replays every measurement since the snapshot: ~0.06 ms each, and at 150 measurements per
second a rewind for every late gyro reading cost the EKF node 0.3 CPU s per sim second on this
machine. ``rewind_kinds`` limits rewinds to the kinds worth it (the node: GNSS fixes and marker
sightings, a few per second and each one precious); late measurements of other kinds (gyro at 100 Hz,
odometry at 50 Hz: the next one comes in 10-20 ms) are rejected as before.

Pure Python, no ROS: the node supplies ``apply(stamp, kind, payload) -> rejection reason or None``.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from rover_stack.localization.ekf import Localizer

#: (stamp s, arrival sequence number, kind, payload): sorts by stamp, ties by arrival.
Measurement = tuple[float, int, str, tuple]


@dataclass
class ReplayStats:
    rewinds: int = 0        # batches that restored a snapshot
    replayed: int = 0       # measurements applied a second (or later) time by rewinds


class LaggedFilter:
    """Applies batches of measurements to ``localizer`` in stamp order, rewinding for late ones."""

    def __init__(self, localizer: Localizer, apply: Callable[[float, str, tuple], str | None],
                 history: float, rewind_kinds: frozenset[str] | None = None):
        if not history >= 0.0:
            raise ValueError(f'history must be >= 0 s, got {history}')
        self.localizer = localizer
        self.history = history
        self.rewind_kinds = rewind_kinds       # None: every kind; else late ones of other kinds are dropped
        self.stats = ReplayStats()
        self._apply = apply
        self._snapshot_times: list[float] = []
        self._snapshots: list[tuple] = []          # Localizer.snapshot() at each of those times
        self._log: list[Measurement] = []       # applied since the oldest snapshot, in stamp order

    def process(self, batch: list[Measurement]) -> None:
        """Apply ``batch`` (any order); rewind first if it holds a stamp before the filter time."""
        if not batch:
            return
        batch = sorted(batch)
        loc = self.localizer
        if self.history > 0.0 and loc.time is not None:
            late = [m[0] for m in batch if m[0] < loc.time
                    and (self.rewind_kinds is None or m[2] in self.rewind_kinds)]
            if late:
                batch = self._rewind(late[0], batch)
        for stamp, seq, kind, payload in batch:
            reason = self._apply(stamp, kind, payload)
            if reason != 'out_of_order':
                self._log.append((stamp, seq, kind, payload))
        if self.history > 0.0 and loc.time is not None:
            self._snapshot_times.append(loc.time)
            self._snapshots.append(loc.snapshot())
            self._prune(loc.time - self.history)

    def _rewind(self, stamp: float, batch: list[Measurement]) -> list[Measurement]:
        """Restore the newest snapshot at or before ``stamp``; the batch plus what must be re-applied."""
        i = bisect.bisect_right(self._snapshot_times, stamp) - 1
        if i < 0:
            return batch                # older than the history: the filter rejects it
        since = self._snapshot_times[i]
        self.localizer.restore(self._snapshots[i])
        del self._snapshot_times[i + 1:], self._snapshots[i + 1:]
        keep = bisect.bisect_right(self._log, (since, float('inf')))
        redo, self._log = self._log[keep:], self._log[:keep]
        self.stats.rewinds += 1
        self.stats.replayed += len(redo)
        return sorted(redo + batch)

    def _prune(self, oldest: float) -> None:
        """Forget snapshots not needed to rewind to ``oldest`` s (the newest one at or before it stays)
        and the measurements they contain."""
        drop = max(0, bisect.bisect_right(self._snapshot_times, oldest) - 1)
        if drop > 0:
            del self._snapshot_times[:drop], self._snapshots[:drop]
        keep = bisect.bisect_right(self._log, (self._snapshot_times[0], float('inf')))
        del self._log[:keep]
