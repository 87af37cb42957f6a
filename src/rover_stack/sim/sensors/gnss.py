"""GNSS receiver: the antenna's true position (gnss_link, map frame ENU, m) plus white noise, an optional
slowly wandering bias, outages and occasional multipath jumps (random, and/or one forced outage and one
forced jump at chosen sim times, for repeatable tests).

The reported sigma is the white-noise sigma (what a receiver's own estimate would say): honest in normal
operation, optimistic during a multipath jump, as on a real receiver. Positions in m (ENU), times in s.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rover_stack.common.param_spec import param


@dataclass
class GnssConfig:
    rate: float = param(5.0, 'gnss/fix rate', unit='Hz', low=0.1, high=100.0, read_only=True)
    sigma: float = param(2.5, 'Horizontal white noise per axis (1 sigma)', unit='m', low=0.0, high=100.0,
                         read_only=True)
    vertical_sigma: float = param(4.0, 'Vertical white noise (1 sigma)', unit='m', low=0.0, high=100.0,
                                  read_only=True)
    bias_walk: float = param(0.0, 'Horizontal bias random walk (0 = no bias)', unit='m/sqrt(s)', low=0.0,
                             high=10.0, read_only=True)
    bias_time_constant: float = param(300.0, 'The bias decays toward zero with this time constant', unit='s',
                                      low=1.0, high=1.0e6, read_only=True)
    dropout_probability: float = param(0.0, 'Chance per sample that an outage starts', low=0.0, high=1.0,
                                       read_only=True)
    dropout_duration: float = param(3.0, 'Length of an outage', unit='s', low=0.0, high=600.0, read_only=True)
    multipath_probability: float = param(0.0, 'Chance per sample that a multipath jump starts', low=0.0,
                                         high=1.0, read_only=True)
    multipath_magnitude: float = param(8.0, 'Size of a multipath jump (1 sigma)', unit='m', low=0.0,
                                       high=200.0, read_only=True)
    multipath_duration: float = param(2.0, 'Length of a multipath jump', unit='s', low=0.0, high=600.0,
                                      read_only=True)
    # forced events: deterministic, for acceptance tests (docs/localization.md); duration 0 = none
    forced_dropout_start: float = param(0.0, 'Sim time at which the forced outage starts', unit='s',
                                        low=0.0, high=1.0e6, read_only=True)
    forced_dropout_duration: float = param(0.0, 'Length of the forced outage (0 = none)', unit='s', low=0.0,
                                           high=3600.0, read_only=True)
    forced_multipath_start: float = param(0.0, 'Sim time at which the forced multipath jump starts',
                                          unit='s', low=0.0, high=1.0e6, read_only=True)
    forced_multipath_duration: float = param(0.0, 'Length of the forced multipath jump (0 = none)', unit='s',
                                             low=0.0, high=3600.0, read_only=True)
    forced_multipath_east: float = param(0.0, 'East offset of the fixes during the forced jump', unit='m',
                                         low=-1000.0, high=1000.0, read_only=True)
    forced_multipath_north: float = param(0.0, 'North offset of the fixes during the forced jump', unit='m',
                                          low=-1000.0, high=1000.0, read_only=True)

    def forced_dropout_at(self, stamp: float) -> bool:
        """True while the forced outage lasts: [start, start + duration)."""
        start = self.forced_dropout_start
        return self.forced_dropout_duration > 0.0 and start <= stamp < start + self.forced_dropout_duration

    def forced_multipath_at(self, stamp: float) -> tuple[float, float]:
        """(east, north) offset in m of the forced jump at ``stamp``; (0, 0) outside it."""
        start = self.forced_multipath_start
        if self.forced_multipath_duration > 0.0 and start <= stamp < start + self.forced_multipath_duration:
            return self.forced_multipath_east, self.forced_multipath_north
        return 0.0, 0.0


@dataclass(frozen=True)
class GnssReading:
    stamp: float          # s
    fix: bool             # False during an outage (then east/north/up are NaN)
    east: float           # m, measured antenna position in the map frame
    north: float
    up: float
    sigma_horizontal: float   # m, reported 1 sigma per horizontal axis
    sigma_vertical: float     # m


class GnssModel:
    def __init__(self, config: GnssConfig, rng: np.random.Generator):
        self.config = config
        self.rng = rng
        self.bias = np.zeros(2)
        self._outage_until = -math.inf
        self._multipath_until = -math.inf
        self._multipath = np.zeros(2)
        self._last_stamp: float | None = None

    def measure(self, stamp: float, east: float, north: float, up: float) -> GnssReading:
        c = self.config
        dt = 0.0 if self._last_stamp is None else max(stamp - self._last_stamp, 0.0)
        self._last_stamp = stamp
        # draw every random number on every sample, so one option does not shift another's stream
        white = self.rng.normal(0.0, 1.0, 3)
        walk = self.rng.normal(0.0, 1.0, 2)
        jump = self.rng.normal(0.0, 1.0, 2)
        u_dropout, u_multipath = self.rng.random(2)
        if c.bias_walk > 0.0 and dt > 0.0:
            decay = math.exp(-dt / c.bias_time_constant)
            self.bias = self.bias * decay + walk * c.bias_walk * math.sqrt(dt)
        if stamp >= self._outage_until and u_dropout < c.dropout_probability:
            self._outage_until = stamp + c.dropout_duration
        if stamp >= self._multipath_until and u_multipath < c.multipath_probability:
            self._multipath_until = stamp + c.multipath_duration
            self._multipath = jump * c.multipath_magnitude
        if stamp < self._outage_until or c.forced_dropout_at(stamp):
            nan = math.nan
            return GnssReading(stamp, False, nan, nan, nan, c.sigma, c.vertical_sigma)
        offset = self.bias + (self._multipath if stamp < self._multipath_until else 0.0)
        offset = offset + np.asarray(c.forced_multipath_at(stamp))
        return GnssReading(stamp=stamp, fix=True,
                           east=float(east + offset[0] + white[0] * c.sigma),
                           north=float(north + offset[1] + white[1] * c.sigma),
                           up=float(up + white[2] * c.vertical_sigma),
                           sigma_horizontal=c.sigma, sigma_vertical=c.vertical_sigma)
