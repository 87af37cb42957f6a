"""Accuracy metrics of a localization run against ground truth: time alignment, RMSE, heading error,
the error when a GNSS outage ends and the shift a multipath jump causes.

Series are numpy arrays with one row per sample: ``t`` (s) then values. Poses are ``t, x, y, yaw`` in
the map frame (m, m, rad); fixes are ``t, east, north`` of the antenna (m). No ROS here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rover_stack.common.angles import wrap_angles


def rmse(values) -> float:
    """Root mean square of the values (NaN for an empty input)."""
    values = np.asarray(values, dtype=float)
    return float(np.sqrt(np.mean(values ** 2))) if values.size else math.nan


def interpolate_poses(poses: np.ndarray, times) -> np.ndarray:
    """Poses (rows t, x, y, yaw; t increasing) linearly interpolated at ``times``; yaw through its
    unwrapped series. Rows ``times, x, y, yaw``; NaN where a time lies outside the series."""
    poses = np.asarray(poses, dtype=float)
    times = np.asarray(times, dtype=float)
    if len(poses) < 2 or np.any(np.diff(poses[:, 0]) <= 0.0):
        raise ValueError('need at least two pose samples with strictly increasing stamps')
    out = np.empty((len(times), 4))
    out[:, 0] = times
    for column, values in ((1, poses[:, 1]), (2, poses[:, 2]), (3, np.unwrap(poses[:, 3]))):
        out[:, column] = np.interp(times, poses[:, 0], values, left=math.nan, right=math.nan)
    out[:, 3] = wrap_angles(out[:, 3])
    return out


def pose_errors(estimate: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Rows ``t, ex, ey, eyaw``: estimate minus truth (truth interpolated at the estimate stamps; yaw
    wrapped). Estimate samples outside the truth series are dropped."""
    estimate = np.asarray(estimate, dtype=float)
    reference = interpolate_poses(truth, estimate[:, 0])
    errors = np.column_stack([estimate[:, 0], estimate[:, 1:3] - reference[:, 1:3],
                              wrap_angles(estimate[:, 3] - reference[:, 3])])
    return errors[np.all(np.isfinite(errors), axis=1)]


def antenna_positions(truth: np.ndarray, lever_arm) -> np.ndarray:
    """Rows ``t, east, north`` of an antenna at ``lever_arm`` (x, y in base_link, m) on a planar rover."""
    truth = np.asarray(truth, dtype=float)
    c, s = np.cos(truth[:, 3]), np.sin(truth[:, 3])
    ax, ay = float(lever_arm[0]), float(lever_arm[1])
    return np.column_stack([truth[:, 0], truth[:, 1] + c * ax - s * ay, truth[:, 2] + s * ax + c * ay])


def fix_errors(fixes: np.ndarray, truth: np.ndarray, lever_arm) -> np.ndarray:
    """Rows ``t, e_east, e_north``: raw fixes minus the true antenna position at their stamps."""
    fixes = np.asarray(fixes, dtype=float)
    reference = interpolate_poses(truth, fixes[:, 0])
    antenna = antenna_positions(reference, lever_arm)
    errors = np.column_stack([fixes[:, 0], fixes[:, 1:3] - antenna[:, 1:3]])
    return errors[np.all(np.isfinite(errors), axis=1)]


def window(series: np.ndarray, start: float, end: float) -> np.ndarray:
    """Rows with ``start <= t < end``."""
    series = np.asarray(series)
    return series[(series[:, 0] >= start) & (series[:, 0] < end)]


@dataclass(frozen=True)
class Accuracy:
    """Over a window of a run: position RMSE (m, horizontal distance), heading RMSE (deg), raw GNSS
    RMSE (m, horizontal distance and per axis) and the sample counts."""
    position_rmse: float
    heading_rmse_deg: float
    gnss_rmse: float
    gnss_rmse_per_axis: float
    estimates: int
    fixes: int


def accuracy(estimate, truth, fixes, lever_arm, span: tuple[float, float]) -> Accuracy:
    """RMSEs of the estimate and of the raw fixes over ``span`` = ``[start, end)`` s."""
    start, end = span
    errors = window(pose_errors(estimate, truth), start, end)
    gnss = window(fix_errors(fixes, truth, lever_arm), start, end)
    horizontal = np.hypot(gnss[:, 1], gnss[:, 2])
    return Accuracy(position_rmse=rmse(np.hypot(errors[:, 1], errors[:, 2])),
                    heading_rmse_deg=math.degrees(rmse(errors[:, 3])),
                    gnss_rmse=rmse(horizontal), gnss_rmse_per_axis=rmse(horizontal) / math.sqrt(2.0),
                    estimates=len(errors), fixes=len(gnss))


def error_when_fixes_return(estimate, truth, fixes, outage_end: float) -> tuple[float, float]:
    """Position error (m) of the last estimate stamped before the first fix at or after ``outage_end``
    (so the returning fix is not yet fused: what dead reckoning carried), and that fix's stamp (s)."""
    fixes = np.asarray(fixes, dtype=float)
    after = fixes[fixes[:, 0] >= outage_end]
    if not len(after):
        raise ValueError(f'no fix at or after {outage_end} s')
    first_fix = float(after[0, 0])
    errors = pose_errors(estimate, truth)
    before = errors[errors[:, 0] < first_fix]
    if not len(before):
        raise ValueError(f'no estimate before {first_fix} s')
    return float(np.hypot(before[-1, 1], before[-1, 2])), first_fix


def error_shift(estimate, truth, start: float, end: float) -> float:
    """Largest change (m) of the position error vector (estimate - truth) during ``[start, end)`` from
    its value at the last estimate before ``start``: how far something in that window moved the
    estimate relative to where the truth went."""
    errors = pose_errors(estimate, truth)
    before = errors[errors[:, 0] < start]
    inside = window(errors, start, end)
    if not len(before) or not len(inside):
        raise ValueError(f'need estimates before and inside [{start}, {end}) s')
    return float(np.max(np.hypot(inside[:, 1] - before[-1, 1], inside[:, 2] - before[-1, 2])))
