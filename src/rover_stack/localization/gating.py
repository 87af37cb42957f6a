"""Mahalanobis gating and covariance hygiene for the EKF. Pure numpy, no ROS.

A measurement with innovation y and innovation covariance S is accepted when its squared
Mahalanobis distance d2 = y' S^-1 y is at most the sensor's chi-square threshold. For reference
(probability that a correct measurement passes):

    dof   p=0.99   p=0.999   p=0.9999
    1     6.63     10.83     15.14
    2     9.21     13.82     18.42
"""
from __future__ import annotations

import numpy as np

#: chi-square quantiles used by the defaults and the docs: {(dof, probability): threshold}.
CHI2 = {(1, 0.99): 6.635, (1, 0.999): 10.828, (1, 0.9999): 15.137,
        (2, 0.99): 9.210, (2, 0.999): 13.816, (2, 0.9999): 18.421}


def mahalanobis_squared(innovation: np.ndarray, s_inverse: np.ndarray) -> float:
    """y' S^-1 y for innovation y and inverse innovation covariance S^-1."""
    return float(innovation @ s_inverse @ innovation)


def passes_gate(d2: float, threshold: float) -> bool:
    """True when the squared distance is finite and within the threshold (threshold <= 0: no gate)."""
    if not np.isfinite(d2):
        return False
    return threshold <= 0.0 or d2 <= threshold


def symmetric_positive_definite(p: np.ndarray, floor: float, ceiling: float) -> np.ndarray:
    """``p`` symmetrised, eigenvalues clamped to [floor, ceiling] (unit^2 of each state)."""
    p = 0.5 * (p + p.T)
    values, vectors = np.linalg.eigh(p)
    if values[0] >= floor and values[-1] <= ceiling:
        return p
    values = np.clip(values, floor, ceiling)
    p = (vectors * values) @ vectors.T
    return 0.5 * (p + p.T)


def is_symmetric_positive_definite(p: np.ndarray, tolerance: float = 1e-9) -> bool:
    """True for a finite, symmetric (within ``tolerance`` relative) matrix with eigenvalues > 0."""
    if not np.all(np.isfinite(p)):
        return False
    scale = max(1.0, float(np.max(np.abs(p))))
    if np.max(np.abs(p - p.T)) > tolerance * scale:
        return False
    return bool(np.linalg.eigvalsh(p)[0] > 0.0)
