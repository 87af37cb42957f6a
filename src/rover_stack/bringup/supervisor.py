"""Supervisor core of the process runner: decides starts, respawns and failure from events.

Pure and clock-free: every call gets ``now`` (s, any monotonic clock), so the back-off schedule is
tested without processes or sleeps. The I/O layer (runner.py) reports ``started`` / ``exited``
and starts whatever ``due(now)`` returns.

Rules:

* A node *fails to start* when its first process exits with a non-zero code within
  ``start_grace`` s, or cannot be executed at all. For a required node that fails the bringup.
* A node with ``respawn`` is restarted after every exit. The delay starts at its ``respawn_delay``
  (at least ``min_delay``), doubles after each exit that came less than ``stable_after`` s after the
  start, is capped at ``max_delay``, and returns to ``respawn_delay`` once a run lasted
  ``stable_after`` s.
* A required node that exits and is not respawned fails the bringup; a node that is not required
  may end (its exit is logged).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
class RestartPolicy:
    """Timing of failure detection and back-off, in s."""
    start_grace: float = 2.0     # an exit this soon after the first start counts as a failed start
    stable_after: float = 10.0   # a run this long resets the back-off
    min_delay: float = 0.1       # floor of the respawn delay, so a crash loop never spins
    max_delay: float = 30.0      # cap of the doubled delay


class State(Enum):
    WAITING = 'waiting'          # scheduled to start at next_start
    RUNNING = 'running'
    ENDED = 'ended'              # exited and not to be restarted


@dataclass
class _Node:
    name: str
    respawn: bool
    required: bool
    base_delay: float
    state: State = State.WAITING
    next_start: float = 0.0
    started_at: float | None = None
    delay: float = 0.0           # delay used for the next respawn
    starts: int = 0
    pid: int | None = None


@dataclass(frozen=True)
class Decision:
    """What the supervisor made of an exit: respawn after ``delay`` s, or not (``reason`` says why)."""
    respawn: bool
    delay: float = 0.0
    fatal: bool = False          # the whole bringup fails
    reason: str = ''


@dataclass
class Supervisor:
    """Tracks every node of a bringup; see module docstring for the rules."""
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    nodes: dict[str, _Node] = field(default_factory=dict)
    failure: str | None = None

    def add(self, name: str, *, respawn: bool, required: bool, respawn_delay: float, now: float) -> None:
        """Register a node to be started at ``now`` (order of ``add`` is the start order)."""
        base = max(respawn_delay, self.policy.min_delay)
        self.nodes[name] = _Node(name, respawn, required, base, next_start=now, delay=base)

    def due(self, now: float) -> list[str]:
        """Names of the nodes to start now, in registration order (none once the bringup failed)."""
        if self.failure is not None:
            return []
        return [n.name for n in self.nodes.values() if n.state is State.WAITING and n.next_start <= now]

    def next_event(self) -> float | None:
        """The earliest scheduled start, or None."""
        times = [n.next_start for n in self.nodes.values() if n.state is State.WAITING]
        return min(times) if times else None

    def started(self, name: str, pid: int, now: float) -> None:
        node = self.nodes[name]
        node.state, node.pid, node.started_at = State.RUNNING, pid, now
        node.starts += 1

    def start_failed(self, name: str, error: str, now: float) -> Decision:
        """The process could not be executed at all (counts as an exit with code 127)."""
        node = self.nodes[name]
        node.state, node.started_at = State.RUNNING, now
        node.starts += 1
        return self.exited(name, 127, now, error=error)

    def exited(self, name: str, code: int, now: float, error: str = '') -> Decision:
        """Record an exit of ``name`` with ``code`` (negative: killed by that signal)."""
        node = self.nodes[name]
        uptime = now - (node.started_at if node.started_at is not None else now)
        node.pid = None
        what = error or f'exited with code {code}'
        if node.starts == 1 and code != 0 and uptime < self.policy.start_grace and node.required:
            return self._end(node, fatal=True, reason=f'required node {name} failed to start: {what} '
                                                      f'after {uptime:.1f} s')
        if node.respawn:
            if uptime >= self.policy.stable_after:
                node.delay = node.base_delay
            delay = node.delay
            node.delay = min(node.delay * 2, max(self.policy.max_delay, node.base_delay))
            node.state, node.next_start = State.WAITING, now + delay
            return Decision(respawn=True, delay=delay, reason=f'{name} {what}; respawning in {delay:.1f} s')
        if node.required:
            return self._end(node, fatal=True, reason=f'required node {name} {what} and is not respawned')
        return self._end(node, fatal=False, reason=f'{name} {what} (not required, not respawned)')

    def _end(self, node: _Node, fatal: bool, reason: str) -> Decision:
        node.state = State.ENDED
        if fatal and self.failure is None:
            self.failure = reason
        return Decision(respawn=False, fatal=fatal, reason=reason)

    @property
    def finished(self) -> bool:
        """True when no node runs or waits to start."""
        return all(n.state is State.ENDED for n in self.nodes.values())

    def running(self) -> dict[str, int]:
        """name -> pid of the running nodes."""
        return {n.name: n.pid for n in self.nodes.values() if n.state is State.RUNNING and n.pid is not None}
