"""Telling a respawned action server from ROS graph lag (pure; no rclpy).

A goal dies with the server process that accepted it, and the client hears nothing: no result, no
status. The watch compares the endpoint gids of the action's status publishers (one per running server)
with those seen when the goal was accepted. The graph lags the action's services, so at the acceptance
it may not list the accepting server yet and may still list a destroyed one; the servers seen at the
acceptance or at the first check one ``period`` later form the baseline. A respawn takes longer than
that, so a server that appears afterwards was started after our goal was accepted: ours was restarted.
"""
from __future__ import annotations

from collections.abc import Iterable


class RestartWatch:
    """Baseline of server gids for one accepted goal; times are monotonic seconds."""

    def __init__(self, period: float = 1.0):
        if not period > 0.0:
            raise ValueError(f'period must be > 0 s, got {period}')
        self.period = period
        self._baseline: set = set()
        self._settled = False
        self._checked_at = -float('inf')

    def accepted(self, servers: Iterable, now: float) -> None:
        """A goal was accepted at ``now`` while the graph listed ``servers``."""
        self._baseline = set(servers)
        self._settled = False
        self._checked_at = now

    @property
    def settled(self) -> bool:
        """Whether a restart would be noticed now: the baseline was checked after the acceptance and holds
        a server."""
        return self._settled and bool(self._baseline)

    def due(self, now: float) -> bool:
        """Whether a graph query is due (at most one per ``period``)."""
        return now - self._checked_at >= self.period

    def restarted(self, servers: Iterable, now: float) -> bool:
        """Check the servers listed now: True if one appeared after the baseline settled."""
        self._checked_at = now
        servers = set(servers)
        if not self._settled or not self._baseline:
            self._baseline |= servers     # the graph's view of the acceptance, a period later
            self._settled = True
            return False
        return bool(servers - self._baseline)
