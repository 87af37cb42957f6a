"""Planar angles in rad: the one wrap used everywhere. Pure."""
from __future__ import annotations

import math

import numpy as np

TWO_PI = 2.0 * math.pi


def wrap_angle(angle: float) -> float:
    """``angle`` (rad) wrapped to (-pi, pi]; an angle already in range is returned unchanged."""
    wrapped = math.remainder(angle, TWO_PI)
    return math.pi if wrapped == -math.pi else wrapped


def wrap_angles(angles) -> np.ndarray:
    """``wrap_angle`` of every element of an array (rad, (-pi, pi]; in-range elements unchanged)."""
    values = np.asarray(angles, dtype=float)
    wrapped = np.pi - np.remainder(np.pi - values, TWO_PI)
    return np.where((values > -np.pi) & (values <= np.pi), values, wrapped)
