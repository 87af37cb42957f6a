"""Search patterns cover the search disk: every cell within the detection range of the path."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rover_stack.autonomy.search import distance_to_path, expanding_square, pattern, spiral, sweep_spacing


def uncovered(path, center, radius, detection_range, cell=0.5):
    """Grid cells inside the disk farther than detection_range from the path."""
    xs = np.arange(-radius, radius + cell, cell)
    misses = []
    for dx in xs:
        for dy in xs:
            if math.hypot(dx, dy) <= radius:
                point = (center[0] + dx, center[1] + dy)
                if distance_to_path(point, path) > detection_range:
                    misses.append(point)
    return misses


@pytest.mark.parametrize('kind', ['spiral', 'square'])
@pytest.mark.parametrize(('radius', 'detection_range'), [(10.0, 3.0), (20.0, 5.0), (8.0, 8.0)])
def test_pattern_covers_the_disk(kind, radius, detection_range):
    center = (12.0, -4.0)
    path = pattern(kind, center, radius, detection_range, start_angle=0.7)
    assert path[0] == pytest.approx(center)
    assert uncovered(path, center, radius, detection_range) == []


def test_sparse_pattern_misses_cells():
    """The coverage check can fail: sweeps twice the allowed spacing leave gaps."""
    path = spiral((0.0, 0.0), 20.0, spacing=4 * 3.0)
    assert uncovered(path, (0.0, 0.0), 20.0, 3.0)


def test_spiral_steps_and_end_radius():
    path = spiral((0.0, 0.0), 15.0, spacing=6.0)
    steps = [math.dist(a, b) for a, b in itertools.pairwise(path)]
    assert max(steps) <= 3.0 + 1e-9
    assert math.hypot(*path[-1]) == pytest.approx(15.0 + 3.0)


def test_expanding_square_legs_grow():
    path = expanding_square((0.0, 0.0), 5.0, spacing=2.0)
    lengths = [math.dist(a, b) for a, b in itertools.pairwise(path)]
    assert lengths[:6] == pytest.approx([2, 2, 4, 4, 6, 6])


@pytest.mark.parametrize('bad', [dict(radius=0.0), dict(radius=math.nan), dict(spacing=-1.0)])
def test_invalid_sizes(bad):
    args = dict(radius=10.0, spacing=3.0) | bad
    with pytest.raises(ValueError):
        spiral((0.0, 0.0), **args)


def test_bad_pattern_and_spacing():
    assert sweep_spacing(5.0, 0.8) == pytest.approx(8.0)
    with pytest.raises(ValueError):
        sweep_spacing(0.0)
    with pytest.raises(ValueError, match='unknown search pattern'):
        pattern('zigzag', (0.0, 0.0), 10.0, 3.0)
