"""Command arbitration, free of ROS: pick one twist among several sources by priority and freshness.

Inputs come from a table (config/arbitration.yaml)::

    sources:   # velocity commands (TwistStamped); higher priority wins while fresh
      - {name: joystick, topic: joystick/cmd_vel, priority: 100, timeout: 0.5}   # timeout in s
    locks:     # std_msgs/Bool; true = engaged
      - {name: estop, topic: estop, priority: 255, timeout: 0.0}

Rules, evaluated on every ``step(now)``:

* A twist's time is its header stamp, or its arrival when unstamped (stamp 0). A stamped twist older
  than its source's ``timeout`` or more than ``max_future`` s ahead is dropped on arrival.
* A source is fresh while its last valid twist is at most ``timeout`` s old, by its arrival AND by its
  stamp; a negative age (the clock stepped back) is never fresh. The fresh source with the highest
  priority wins; its twist is the output, with its time (stamp) forwarded.
* A lock is engaged while its last value is true; with ``timeout`` > 0 it is also engaged when no
  message came for ``timeout`` s (or none yet, or its last one 'after' now): a heartbeat whose loss
  stops the rover. With ``timeout`` 0 a lock never expires.
* An engaged lock with a priority above the winner (or any engaged lock when no source is fresh)
  forces a zero twist, reported as ``lock:<name>``.
* No fresh source and no lock: zero twist, reported as ``idle``. The output is always a twist to
  publish — zero, never silence.
* Twists with a NaN/inf component, a stale or a future stamp are dropped and counted per source.

Twists are 6-tuples (vx, vy, vz m/s, wx, wy, wz rad/s) in the sender's frame (base_link).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rover_stack.common.yaml_lines import FileFieldError, load_yaml_file

IDLE = 'idle'
LOCK_PREFIX = 'lock:'
ZERO_TWIST = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


class ArbitrationConfigError(ValueError):
    """The input table is malformed (missing field, duplicate name/topic/priority, bad value)."""


@dataclass(frozen=True)
class InputSpec:
    """One arbitration input: a velocity source or a lock."""
    name: str
    topic: str          # relative topic name
    priority: int       # higher wins; unique over all inputs
    timeout: float      # s; for sources > 0, for locks >= 0 (0 = never expires)


@dataclass(frozen=True)
class ArbitrationConfig:
    sources: tuple[InputSpec, ...]
    locks: tuple[InputSpec, ...] = ()


def _input(entry, kind: str, where: str) -> InputSpec:
    if not isinstance(entry, dict):
        raise ArbitrationConfigError(f'{where}: each {kind} must be a mapping, got {entry!r}')
    missing = [k for k in ('name', 'topic', 'priority', 'timeout') if k not in entry]
    if missing:
        raise ArbitrationConfigError(f'{where}: {kind} {entry.get("name", "?")!r} lacks {missing}')
    unknown = sorted(set(entry) - {'name', 'topic', 'priority', 'timeout'})
    if unknown:
        raise ArbitrationConfigError(f'{where}: {kind} {entry["name"]!r} has unknown fields {unknown}')
    name, topic, priority, timeout = entry['name'], entry['topic'], entry['priority'], entry['timeout']
    if not isinstance(name, str) or not name or LOCK_PREFIX in name or name == IDLE:
        raise ArbitrationConfigError(f'{where}: bad {kind} name {name!r}')
    if not isinstance(topic, str) or not topic or topic.startswith('/') or ' ' in topic:
        raise ArbitrationConfigError(
            f'{where}: {kind} {name!r}: topic must be a relative name, got {topic!r}')
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 1000:
        raise ArbitrationConfigError(f'{where}: {kind} {name!r}: priority must be an integer in 0..1000')
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout):
        raise ArbitrationConfigError(f'{where}: {kind} {name!r}: timeout must be a number of seconds')
    if timeout < 0.0 or (kind == 'source' and timeout == 0.0) or timeout > 60.0:
        raise ArbitrationConfigError(
            f'{where}: {kind} {name!r}: timeout {timeout} s out of range '
            f'({"(0, 60]" if kind == "source" else "[0, 60]"})')
    return InputSpec(name, topic, priority, float(timeout))


def config_from_dict(data, where: str = '<arbitration config>') -> ArbitrationConfig:
    """Validate the ``{sources: [...], locks: [...]}`` mapping; ArbitrationConfigError on any fault."""
    if not isinstance(data, dict):
        raise ArbitrationConfigError(f'{where}: expected a mapping with "sources" and "locks"')
    unknown = sorted(set(data) - {'sources', 'locks'})
    if unknown:
        raise ArbitrationConfigError(f'{where}: unknown keys {unknown}')
    raw_sources, raw_locks = data.get('sources') or [], data.get('locks') or []
    if not isinstance(raw_sources, list) or not isinstance(raw_locks, list):
        raise ArbitrationConfigError(f'{where}: "sources" and "locks" must be lists')
    sources = tuple(_input(e, 'source', where) for e in raw_sources)
    locks = tuple(_input(e, 'lock', where) for e in raw_locks)
    if not sources:
        raise ArbitrationConfigError(f'{where}: at least one source is needed')
    everything = sources + locks
    for attribute in ('name', 'topic', 'priority'):
        seen = Counter(getattr(i, attribute) for i in everything)
        dupes = sorted(str(k) for k, n in seen.items() if n > 1)
        if dupes:
            raise ArbitrationConfigError(f'{where}: duplicate {attribute}(s): {", ".join(dupes)}')
    return ArbitrationConfig(sources, locks)


@dataclass(frozen=True)
class ArbitrationResult:
    twist: tuple[float, ...]   # 6 components, zero when locked or idle
    active: str                # winning source name, 'lock:<name>' or 'idle'
    stamp: float | None = None   # s, the winning twist's time (stamp, else arrival); None when zero


def load_inputs(path: Path) -> ArbitrationConfig:
    """Read and validate the arbitration table; ArbitrationConfigError on any fault (an unreadable file or
    invalid YAML with the line, from common.yaml_lines)."""
    try:
        data = load_yaml_file(path)
    except FileFieldError as error:
        raise ArbitrationConfigError(str(error)) from None
    return config_from_dict(data, str(path))


class Arbiter:
    """Keeps the latest input of every source and lock; ``step(now)`` decides the output."""

    def __init__(self, config: ArbitrationConfig, max_future: float = 0.5):
        if not math.isfinite(max_future) or max_future < 0.0:
            raise ValueError(f'max_future must be >= 0 s, got {max_future}')
        self.config = config
        self.max_future = max_future     # s, stamps further ahead are dropped
        self._sources = {s.name: s for s in config.sources}
        self._locks = {lock.name: lock for lock in config.locks}
        self._twists: dict[str, tuple[tuple[float, ...], float, float]] = {}   # (twist, arrival, time)
        self._lock_values: dict[str, tuple[bool, float]] = {}
        self.dropped: Counter[str] = Counter()
        self.received: Counter[str] = Counter()

    def on_twist(self, source: str, twist, now: float, stamp: float | None = None) -> bool:
        """Store a twist (6 numbers) from ``source`` received at ``now`` s, stamped ``stamp`` s (None:
        unstamped); False if dropped."""
        if source not in self._sources:
            raise KeyError(f'unknown source {source!r}')
        values = tuple(float(x) for x in twist)
        stale = stamp is not None and not (
            math.isfinite(stamp) and -self.max_future <= now - stamp <= self._sources[source].timeout)
        if len(values) != 6 or not all(math.isfinite(x) for x in values) or stale:
            self.dropped[source] += 1
            return False
        self._twists[source] = (values, now, now if stamp is None else stamp)
        self.received[source] += 1
        return True

    def on_lock(self, lock: str, engaged: bool, now: float) -> None:
        if lock not in self._locks:
            raise KeyError(f'unknown lock {lock!r}')
        self._lock_values[lock] = (bool(engaged), now)

    def source_fresh(self, name: str, now: float) -> bool:
        entry = self._twists.get(name)
        if entry is None:
            return False
        timeout = self._sources[name].timeout
        return 0.0 <= now - entry[1] <= timeout and now - entry[2] <= timeout

    def lock_engaged(self, name: str, now: float) -> bool:
        spec = self._locks[name]
        value = self._lock_values.get(name)
        if spec.timeout > 0.0 and (value is None or not 0.0 <= now - value[1] <= spec.timeout):
            return True
        return value is not None and value[0]

    def step(self, now: float) -> ArbitrationResult:
        fresh = [s for s in self.config.sources if self.source_fresh(s.name, now)]
        winner = max(fresh, key=lambda s: s.priority, default=None)
        floor = -1 if winner is None else winner.priority
        engaged = [lock for lock in self.config.locks
                   if lock.priority > floor and self.lock_engaged(lock.name, now)]
        if engaged:
            top = max(engaged, key=lambda lock: lock.priority)
            return ArbitrationResult(ZERO_TWIST, LOCK_PREFIX + top.name)
        if winner is None:
            return ArbitrationResult(ZERO_TWIST, IDLE)
        twist, _, stamp = self._twists[winner.name]
        return ArbitrationResult(twist, winner.name, stamp)
