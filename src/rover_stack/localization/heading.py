"""Initial heading from the GNSS track: align dead reckoning with fixes once the rover has moved.

At start the heading is unknown (no trustworthy compass). The initializer dead-reckons the antenna
in its own frame (starting at heading 0) from the filter's speed and yaw rate, pairs each GNSS fix
with the dead-reckoned antenna position of the same instant, and, once the dead-reckoned points
span ``min_distance`` m, fits the 2-D rotation + translation taking one set onto the other (least
squares, Procrustes). The rotation is the heading offset; its variance is sigma_gnss^2 / sum of the
squared distances of the points from their centroid, so a longer or straighter track gives a
better heading. Pure numpy, no ROS.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from rover_stack.common.angles import wrap_angle
from rover_stack.localization.models import YAW, gnss_model, predict_state, rotation_2d


@dataclass(frozen=True)
class HeadingFit:
    """Result of the alignment: dead-reckoning frame -> map frame."""
    rotation: float         # rad, map yaw = dead-reckoned yaw + rotation
    translation: np.ndarray  # m, map (x, y) = R(rotation) dr (x, y) + translation
    rotation_variance: float  # rad^2
    residual_rms: float     # m, RMS misfit of the aligned fixes
    samples: int


class HeadingInitializer:
    """Collects (dead-reckoned antenna, GNSS antenna) pairs; ``fit()`` once they span far enough."""

    def __init__(self, lever_arm, min_distance: float = 8.0, max_samples: int = 600):
        self.lever_arm = np.asarray(lever_arm, dtype=float)
        self.min_distance = float(min_distance)
        self.dr = np.zeros(6)        # dead-reckoned state in the initializer's own frame
        self._pairs: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=max_samples)
        self._span = 0.0

    def advance(self, v: float, w: float, dt: float) -> None:
        """Dead-reckon ``dt`` s at speed ``v`` m/s and yaw rate ``w`` rad/s."""
        self.dr[3], self.dr[4] = v, w
        self.dr, _ = predict_state(self.dr, dt)

    def add_fix(self, east_north: np.ndarray, variance: float, roll: float = 0.0, pitch: float = 0.0) -> None:
        """Pair a GNSS antenna position (m) with the current dead-reckoned antenna position."""
        antenna, _ = gnss_model(self.dr, self.lever_arm, roll, pitch)
        if len(self._pairs) == self._pairs.maxlen:
            self._pairs.popleft()
            first = self._pairs[0][0]
            self._span = max((float(np.hypot(*(p[0] - first))) for p in self._pairs), default=0.0)
        self._pairs.append((antenna, np.asarray(east_north, dtype=float), float(variance)))
        self._span = max(self._span, float(np.hypot(*(antenna - self._pairs[0][0]))))

    def span(self) -> float:
        """Largest distance (m) of a dead-reckoned point from the first one."""
        return self._span

    def fit(self) -> HeadingFit | None:
        """The alignment once the track spans ``min_distance`` m, else None."""
        if len(self._pairs) < 3 or self.span() < self.min_distance:
            return None
        a = np.array([p[0] for p in self._pairs])
        b = np.array([p[1] for p in self._pairs])
        variance = float(np.mean([p[2] for p in self._pairs]))
        a_mean, b_mean = a.mean(axis=0), b.mean(axis=0)
        ac, bc = a - a_mean, b - b_mean
        cross = float(np.sum(ac[:, 0] * bc[:, 1] - ac[:, 1] * bc[:, 0]))
        dot = float(np.sum(ac[:, 0] * bc[:, 0] + ac[:, 1] * bc[:, 1]))
        rotation = math.atan2(cross, dot)
        r = rotation_2d(rotation)
        translation = b_mean - r @ a_mean
        residual = b - (a @ r.T + translation)
        spread = float(np.sum(ac * ac))
        return HeadingFit(rotation=wrap_angle(rotation), translation=translation,
                          rotation_variance=4.0 * variance / max(spread, 1e-6),
                          residual_rms=float(np.sqrt(np.mean(np.sum(residual * residual, axis=1)))),
                          samples=len(a))

    def map_pose(self, fit: HeadingFit) -> tuple[np.ndarray, float]:
        """The current dead-reckoned base_link pose in the map frame: ((x, y), yaw)."""
        xy = rotation_2d(fit.rotation) @ self.dr[:2] + fit.translation
        return xy, wrap_angle(self.dr[YAW] + fit.rotation)

    def reset(self) -> None:
        self.dr = np.zeros(6)
        self._pairs.clear()
        self._span = 0.0
