"""Gate geometry: two marker posts -> midpoint, width and the normal to pass through along.

Frame: any REP-103 body or world frame (normally base_link), z up; the gate is treated in the x-y
plane. The gate frame has its origin at the midpoint of the two markers, +x along the horizontal
normal oriented so that the left marker lies on the +y side (left when driving along +x), z up.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Gate:
    left_id: int
    right_id: int
    midpoint: np.ndarray   # (x, y, z) m, mean of the two marker positions
    yaw: float             # rad, direction of the gate's +x (normal) about z
    width: float           # m, horizontal distance between the markers

    @property
    def quaternion(self) -> tuple[float, float, float, float]:
        """(x, y, z, w) of a rotation by ``yaw`` about z."""
        return (0.0, 0.0, math.sin(self.yaw / 2.0), math.cos(self.yaw / 2.0))


def gate_from_positions(left_id: int, right_id: int, left_xyz, right_xyz) -> Gate:
    """The gate between markers at ``left_xyz`` and ``right_xyz``; ValueError if they coincide."""
    left = np.asarray(left_xyz, dtype=float)
    right = np.asarray(right_xyz, dtype=float)
    d = right[:2] - left[:2]
    width = float(np.hypot(*d))
    if width < 1e-6:
        raise ValueError(f'markers {left_id} and {right_id} are at the same place; no gate')
    # left is on the +y side of the normal n: n = (right - left) rotated by +90 degrees
    yaw = math.atan2(d[0], -d[1])
    return Gate(left_id, right_id, (left + right) / 2.0, yaw, width)


def parse_pairs(flat: Iterable[int]) -> list[tuple[int, int]]:
    """[l1, r1, l2, r2, ...] -> [(l1, r1), ...]; ValueError for an odd count, negatives or a repeated id."""
    values = [int(v) for v in flat]
    if len(values) % 2:
        raise ValueError(f'gate pairs need an even number of ids (left, right, ...), got {values}')
    pairs = list(zip(values[0::2], values[1::2], strict=True))
    for left, right in pairs:
        if left < 0 or right < 0 or left == right:
            raise ValueError(f'gate pair ({left}, {right}) needs two different non-negative ids')
    return pairs


def find_gates(pairs: Iterable[tuple[int, int]], confirmed_positions: dict[int, np.ndarray],
               min_width: float = 0.5, max_width: float = 6.0) -> list[Gate]:
    """Gates of the configured ``pairs`` whose both markers are confirmed and plausibly far apart."""
    gates = []
    for left, right in pairs:
        if left in confirmed_positions and right in confirmed_positions:
            gate = gate_from_positions(left, right, confirmed_positions[left], confirmed_positions[right])
            if min_width <= gate.width <= max_width:
                gates.append(gate)
    return gates
