"""Planar range sensor at laser_link: rays in the sensor's x-y plane, counter-clockwise from angle_min,
cast with mujoco.mj_multiRay against the world's geoms (flat ground, rocks, posts); the rover's own geoms
are in another geom group and never seen. A heightfield terrain is ray-marched here instead (MuJoCo's
heightfield ray test costs ~75 ms a scan on a 256 x 256 grid; this a few ms). Ranges in m with white noise;
beyond range_max: +inf (REP-117).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rover_stack.common.param_spec import param


@dataclass
class RangeConfig:
    rate: float = param(10.0, 'scan rate', unit='Hz', low=0.1, high=100.0, read_only=True)
    angle_min: float = param(-2.356194, 'First ray angle about laser_link z', unit='rad', low=-math.pi,
                             high=0.0, read_only=True)
    angle_max: float = param(2.356194, 'Last ray angle', unit='rad', low=0.0, high=math.pi, read_only=True)
    samples: int = param(271, 'Rays per scan', low=2, high=4000, read_only=True)
    range_min: float = param(0.1, 'Closest measurable range', unit='m', low=0.0, high=10.0, read_only=True)
    range_max: float = param(20.0, 'Farthest measurable range', unit='m', low=0.5, high=200.0, read_only=True)
    noise: float = param(0.01, 'Range white noise (1 sigma)', unit='m', low=0.0, high=1.0, read_only=True)


@dataclass(frozen=True)
class ScanReading:
    stamp: float
    ranges: tuple[float, ...]     # m, +inf beyond range_max, -inf closer than range_min
    angle_min: float
    angle_max: float
    angle_increment: float
    range_min: float
    range_max: float
    scan_time: float              # s, period


class RangeSensor:
    def __init__(self, config: RangeConfig, rng: np.random.Generator, seen_groups=(0,), terrain=None,
                 march_step: float = 0.1):
        """``terrain``: an object with a vectorised ``height_at(x, y)`` (m), ray-marched every
        ``march_step`` m; None when the ground is a geom the rays hit."""
        if config.angle_max <= config.angle_min:
            raise ValueError('range sensor angle_max must exceed angle_min')
        self.config = config
        self.rng = rng
        self.angles = np.linspace(config.angle_min, config.angle_max, config.samples)
        self._local = np.column_stack([np.cos(self.angles), np.sin(self.angles), np.zeros(config.samples)])
        self._groups = np.array([1 if g in seen_groups else 0 for g in range(6)], dtype=np.uint8)
        self._geomid = np.zeros(config.samples, dtype=np.int32)
        self._dist = np.zeros(config.samples)
        self.terrain = terrain
        self._march = np.arange(march_step, config.range_max + march_step, march_step)

    def scan(self, stamp: float, model, data, origin, rotation) -> ScanReading:
        """``origin`` (3,) m and ``rotation`` (3x3) of laser_link in the world."""
        import mujoco  # noqa: PLC0415 - mujoco: after engine sets MUJOCO_GL

        c = self.config
        directions = (np.asarray(rotation) @ self._local.T).T
        mujoco.mj_multiRay(model, data, np.asarray(origin, float), directions.ravel(), self._groups, 1, -1,
                           self._geomid, self._dist, None, c.samples, c.range_max)
        ranges = np.where((self._geomid >= 0) & (self._dist >= 0.0), self._dist, math.inf)
        if self.terrain is not None:
            ranges = np.minimum(ranges, self._terrain_ranges(np.asarray(origin, float), directions))
        noise = self.rng.normal(0.0, c.noise, c.samples)
        hit = np.isfinite(ranges)
        ranges = np.where(hit, ranges + noise, math.inf)
        ranges = np.where(hit & (ranges > c.range_max), math.inf, ranges)
        ranges = np.where(hit & (ranges < c.range_min), -math.inf, ranges)
        increment = (c.angle_max - c.angle_min) / (c.samples - 1)
        return ScanReading(stamp=stamp, ranges=tuple(float(r) for r in ranges), angle_min=c.angle_min,
                           angle_max=c.angle_max, angle_increment=increment, range_min=c.range_min,
                           range_max=c.range_max, scan_time=1.0 / c.rate)

    def _terrain_ranges(self, origin: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """Distance along each ray to where it first goes below the terrain (inf if it never does)."""
        s = self._march                                              # [k] m along the ray
        points = origin[None, None, :] + directions[:, None, :] * s[None, :, None]   # [rays, k, 3]
        below = points[..., 2] - self.terrain.height_at(points[..., 0], points[..., 1])   # m, < 0: under
        under = below < 0.0
        first = np.argmax(under, axis=1)
        found = under[np.arange(len(first)), first]
        out = np.full(len(first), math.inf)
        rows = np.nonzero(found)[0]
        k = first[rows]
        above = np.where(k > 0, below[rows, np.maximum(k - 1, 0)], 0.0)    # height above ground before
        s_before = np.where(k > 0, s[np.maximum(k - 1, 0)], 0.0)
        fraction = above / np.maximum(above - below[rows, k], 1e-9)          # linear crossing
        out[rows] = s_before + fraction * (s[k] - s_before)
        return out
