"""Seeded synthetic trajectories and sensor streams with known truth, for tests and benchmarks.

The truth is integrated exactly (constant speed and yaw rate per 1/``truth_rate`` s step). Sensors:
wheel odometry (body speed and yaw rate with a scale error and white noise; exactly zero while the
wheels stand still), IMU gyro z (with a constant bias and white noise), GNSS antenna position (lever
arm rotated by the true yaw, white noise). Units: s, m, rad, m/s, rad/s.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rover_stack.localization.models import rotation_2d


@dataclass
class SensorSpec:
    odom_rate: float = 50.0
    odom_scale: float = 1.02          # wheel odometry over-reads speed and yaw rate by 2 %
    odom_speed_sigma: float = 0.02    # m/s
    odom_yaw_rate_sigma: float = 0.05  # rad/s
    imu_rate: float = 100.0
    gyro_bias: float = 0.01           # rad/s
    gyro_sigma: float = 0.005         # rad/s
    gnss_rate: float = 10.0
    gnss_sigma: float = 2.5           # m per axis
    lever_arm: tuple = (-0.30, 0.15, 0.60)   # m, antenna in base_link
    gnss_outages: list = field(default_factory=list)   # [(start s, end s)] without fixes
    gnss_jumps: list = field(default_factory=list)     # [(start s, end s, de m, dn m)] multipath


@dataclass
class Event:
    t: float
    kind: str           # 'odom' | 'imu' | 'gnss'
    values: tuple


@dataclass
class Scenario:
    times: np.ndarray   # truth sample times, s
    truth: np.ndarray   # (N, 3): x, y, yaw
    events: list[Event]

    def truth_at(self, t: float) -> np.ndarray:
        i = min(int(np.searchsorted(self.times, t)), len(self.times) - 1)
        return self.truth[i]


#: Every profile starts with the rover standing still this long (waiting at the start gate).
STANDSTILL_S = 10.0


def straight(t: float) -> tuple[float, float]:
    return (0.0, 0.0) if t < STANDSTILL_S else (1.0, 0.0)


def circle(t: float) -> tuple[float, float]:
    return (0.0, 0.0) if t < STANDSTILL_S else (1.0, 0.1)     # 10 m radius


def figure_eight(t: float) -> tuple[float, float]:
    if t < STANDSTILL_S:
        return 0.0, 0.0
    loop = 2.0 * math.pi / 0.125    # one 8 m-radius circle, then the other way round
    return 1.0, 0.125 if ((t - STANDSTILL_S) % (2 * loop)) < loop else -0.125


TRAJECTORIES: dict[str, Callable[[float], tuple[float, float]]] = {
    'straight': straight, 'circle': circle, 'figure_eight': figure_eight}


def simulate(profile: Callable[[float], tuple[float, float]], duration: float, seed: int, *,
             spec: SensorSpec | None = None, start_yaw: float = 0.7, truth_rate: float = 200.0) -> Scenario:
    """Truth and sensor events (sorted by time) for ``duration`` s of the (v, w) ``profile``."""
    spec = spec or SensorSpec()
    rng = np.random.default_rng(seed)
    dt = 1.0 / truth_rate
    n = round(duration * truth_rate) + 1
    times = np.arange(n) * dt
    truth = np.zeros((n, 3))
    truth[0] = (5.0, -3.0, start_yaw)
    twist = np.zeros((n, 2))
    for i in range(n):
        twist[i] = profile(times[i])
        if i + 1 < n:
            x, y, yaw = truth[i]
            v, w = twist[i]
            mid = yaw + 0.5 * w * dt
            truth[i + 1] = (x + v * math.cos(mid) * dt, y + v * math.sin(mid) * dt, yaw + w * dt)
    events: list[Event] = []
    lever = np.asarray(spec.lever_arm[:2], dtype=float)

    def every(rate: float):
        step = max(1, round(truth_rate / rate))
        return range(step, n, step)

    for i in every(spec.odom_rate):
        v, w = twist[i]
        moving = v != 0.0 or w != 0.0       # wheels that do not turn read exactly zero
        measured = (v * spec.odom_scale + moving * rng.normal(0, spec.odom_speed_sigma),
                    w * spec.odom_scale + moving * rng.normal(0, spec.odom_yaw_rate_sigma))
        events.append(Event(times[i], 'odom', measured))
    for i in every(spec.imu_rate):
        rate = twist[i, 1] + spec.gyro_bias + rng.normal(0, spec.gyro_sigma)
        events.append(Event(times[i], 'imu', (rate,)))
    for i in every(spec.gnss_rate):
        t = times[i]
        if any(a <= t < b for a, b in spec.gnss_outages):
            continue
        antenna = truth[i, :2] + rotation_2d(truth[i, 2]) @ lever + rng.normal(0, spec.gnss_sigma, 2)
        for a, b, de, dn in spec.gnss_jumps:
            if a <= t < b:
                antenna = antenna + np.array([de, dn])
        events.append(Event(t, 'gnss', (float(antenna[0]), float(antenna[1]))))
    events.sort(key=lambda e: (e.t, e.kind))
    truth[:, 2] = np.arctan2(np.sin(truth[:, 2]), np.cos(truth[:, 2]))
    return Scenario(times, truth, events)


def feed(localizer, event: Event, spec: SensorSpec) -> str | None:
    """Apply one synthetic event to a ``Localizer`` with the spec's noise as measurement variances."""
    if event.kind == 'odom':
        return localizer.update_odom(event.t, *event.values)
    if event.kind == 'imu':
        return localizer.update_imu(event.t, event.values[0], spec.gyro_sigma ** 2)
    return localizer.update_gnss(event.t, *event.values, np.eye(2) * spec.gnss_sigma ** 2)
