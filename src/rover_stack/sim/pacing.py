"""Pacing an as-fast-as-possible simulation to the stack that consumes it. Pure Python, no ROS.

With ``real_time_factor`` 0 the simulator steps as fast as its CPU share allows. On a 2-core machine
it then competes with the stack for the same cores, and a stack process that falls behind (a respawn's
imports, a burst of work) sees its inputs hours of CPU "later" in sim time: measured in the chaos test,
the localization container ran 1-1.5 s of sim time behind the clock for a whole run, its obstacle grid
stopped following the rover and the mission failed. A real rover's sensors do not outrun its
computer; the simulation should not either.

``Pacer`` tracks the newest stamp (s sim) of each paced source (the node paces to the EKF's odometry,
the output of the process found lagging): the clock is held while an alive source lags it by more than
``max_lag``. A source whose stamp has not advanced for ``silence`` s of wall time (killed, restarting,
not started, not initialised) is not waited for, so nothing can freeze the simulation.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class PaceStats:
    held_ticks: int = 0          # timer ticks on which the clock was held
    held_wall_s: float = 0.0     # wall time (s) spent holding
    held_by: Counter = field(default_factory=Counter)   # source -> ticks held for it


class Pacer:
    """Holds the clock while an alive paced source lags it (see the module docstring)."""

    def __init__(self, max_lag: float, silence: float):
        if not (max_lag > 0.0 and silence > 0.0):
            raise ValueError(f'max_lag and silence must be > 0 s, got {max_lag}, {silence}')
        self.max_lag = max_lag
        self.silence = silence
        self.stats = PaceStats()
        self._sources: dict[str, tuple[float, float]] = {}    # name -> (newest stamp s sim, wall s it came)
        self._held_since: float | None = None

    def seen(self, name: str, stamp: float, sim_time: float, wall: float) -> None:
        """A message of source ``name`` stamped ``stamp`` s (sim) arrived at wall time ``wall`` s, with the
        clock at ``sim_time``. Stamps that are zero or ahead of the clock (bad input) are ignored."""
        previous = self._sources.get(name)
        if 0.0 < stamp <= sim_time + self.max_lag and (previous is None or stamp > previous[0]):
            self._sources[name] = (stamp, wall)

    def blocking(self, sim_time: float, wall: float) -> str | None:
        """The alive source that lags ``sim_time`` by more than ``max_lag`` (hold the clock), or None."""
        for name, (stamp, advanced) in self._sources.items():
            if wall - advanced <= self.silence and sim_time - stamp > self.max_lag:
                if self._held_since is None:
                    self._held_since = wall
                self.stats.held_ticks += 1
                self.stats.held_by[name] += 1
                return name
        if self._held_since is not None:
            self.stats.held_wall_s += wall - self._held_since
            self._held_since = None
        return None
