"""Rolling occupancy grid: Bresenham rays, marking, clearing, inflation, scrolling."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rover_stack.perception.occupancy import (
    FREE,
    INFLATED,
    OCCUPIED,
    UNKNOWN,
    GridConfig,
    RollingGrid,
    bresenham,
    bresenham_many,
)

coords = st.integers(min_value=-60, max_value=60)
DETERMINISTIC = settings(derandomize=True, max_examples=200, deadline=None)


@DETERMINISTIC
@given(coords, coords, coords, coords)
def test_bresenham_lines_are_8_connected_and_close_to_the_ideal_line(x0, y0, x1, y1):
    xs, ys = bresenham(x0, y0, x1, y1)
    assert (xs[0], ys[0]) == (x0, y0) and (xs[-1], ys[-1]) == (x1, y1)
    assert len(xs) == max(abs(x1 - x0), abs(y1 - y0)) + 1
    steps = np.abs(np.diff(xs)), np.abs(np.diff(ys))
    assert np.all(np.maximum(*steps) == 1) and np.all(np.minimum(*steps) <= 1)
    if len(xs) > 1:   # every cell within half a cell of the ideal line along the minor axis
        t = np.arange(len(xs)) / (len(xs) - 1)
        assert np.all(np.abs(xs - (x0 + t * (x1 - x0))) <= 0.5 + 1e-9)
        assert np.all(np.abs(ys - (y0 + t * (y1 - y0))) <= 0.5 + 1e-9)


@DETERMINISTIC
@given(coords, coords, st.lists(st.tuples(coords, coords, st.booleans()), min_size=1, max_size=8))
def test_bresenham_many_matches_the_single_line(x0, y0, ends):
    x1 = np.array([e[0] for e in ends])
    y1 = np.array([e[1] for e in ends])
    include = np.array([e[2] for e in ends])
    xs, ys = bresenham_many(x0, y0, x1, y1, include_end=include)
    expected_x, expected_y = [], []
    for (ex, ey, inc) in ends:
        lx, ly = bresenham(x0, y0, ex, ey)
        expected_x.extend(lx if inc else lx[:-1])
        expected_y.extend(ly if inc else ly[:-1])
    assert xs.tolist() == expected_x and ys.tolist() == expected_y


def config(**overrides):
    values = dict(size=10.0, resolution=0.1, inflation_radius=0.3, max_clear_range=4.0)
    values.update(overrides)
    return GridConfig(**values)


def value_at(grid, x, y):
    ix, iy = grid.cell_of(x, y)
    return int(grid.values()[iy, ix])


def wall_scan(distance, n=181):
    """A scan (angles, ranges) from a sensor facing +x at a wall at x = distance; +inf behind it."""
    angles = np.linspace(-math.pi / 2, math.pi / 2, n)
    ranges = np.full(n, np.inf)
    ahead = np.abs(angles) < math.radians(30)
    ranges[ahead] = distance / np.cos(angles[ahead])
    return angles, ranges


def test_a_return_marks_its_cell_and_the_ray_is_free():
    grid = RollingGrid(config())
    angles, ranges = np.array([0.0]), np.array([2.05])
    assert grid.integrate_scan(0.0, 0.0, 0.0, angles, ranges, 0.1, 8.0) == 1
    assert value_at(grid, 2.05, 0.0) == OCCUPIED
    assert value_at(grid, 1.0, 0.0) == FREE
    assert value_at(grid, 0.05, 0.0) == FREE
    assert value_at(grid, 2.05 + 0.25, 0.0) == INFLATED       # inside the 0.3 m radius
    assert value_at(grid, 2.05 + 0.6, 0.0) == UNKNOWN         # beyond the return: never observed
    assert value_at(grid, 0.0, 3.0) == UNKNOWN


def test_sensor_pose_places_returns_in_the_world_frame():
    grid = RollingGrid(config(), centre=(1.0, 1.0))
    grid.integrate_scan(1.0, 1.0, math.pi / 2, np.array([0.0]), np.array([2.0]), 0.1, 8.0)   # facing +y
    assert value_at(grid, 1.0, 3.0) == OCCUPIED


def test_free_rays_clear_a_moved_obstacle():
    grid = RollingGrid(config(inflation_radius=0.0))
    angles, ranges = wall_scan(2.0)
    for _ in range(2):
        grid.integrate_scan(0.0, 0.0, 0.0, angles, ranges, 0.1, 8.0)
    assert value_at(grid, 2.0, 0.0) == OCCUPIED
    angles, ranges = wall_scan(3.5)          # the wall moved back: rays now pass through x = 2
    for _ in range(4):
        grid.integrate_scan(0.0, 0.0, 0.0, angles, ranges, 0.1, 8.0)
    assert value_at(grid, 2.0, 0.0) == FREE
    assert value_at(grid, 3.5, 0.0) == OCCUPIED


def test_no_return_clears_to_max_clear_range_only():
    grid = RollingGrid(config(max_clear_range=2.0))
    grid.integrate_scan(0.0, 0.0, 0.0, np.array([0.0]), np.array([np.inf]), 0.1, 8.0)
    assert value_at(grid, 1.9, 0.0) == FREE
    assert value_at(grid, 2.3, 0.0) == UNKNOWN
    assert not grid.occupied().any()


def test_returns_beyond_max_mark_range_clear_their_ray_and_mark_nothing():
    # A low scanner on rolling ground: the ground rising 4.5 m ahead comes back as a return.
    grid = RollingGrid(config(inflation_radius=0.0, max_mark_range=3.0))
    angles, ranges = wall_scan(2.0)
    for _ in range(2):
        grid.integrate_scan(0.0, 0.0, 0.0, angles, ranges, 0.1, 8.0)
    assert value_at(grid, 2.0, 0.0) == OCCUPIED                 # within 3 m: marked
    angles, ranges = wall_scan(3.5)                             # now beyond 3 m
    for _ in range(4):
        assert grid.integrate_scan(0.0, 0.0, 0.0, angles, ranges, 0.1, 8.0) == 0
    assert value_at(grid, 2.0, 0.0) == FREE                     # the ray up to the return is cleared
    assert value_at(grid, 3.45, 0.0) == FREE
    assert value_at(grid, 3.6, 0.0) == UNKNOWN                  # nothing said of the return's cell or beyond
    grid_far = RollingGrid(config(max_clear_range=2.0, max_mark_range=3.0))
    grid_far.integrate_scan(0.0, 0.0, 0.0, np.array([0.0]), np.array([3.5]), 0.1, 8.0)
    assert value_at(grid_far, 1.9, 0.0) == FREE and value_at(grid_far, 2.3, 0.0) == UNKNOWN   # clear range caps it
    assert not grid_far.occupied().any()


@pytest.mark.parametrize('bad', [np.nan, -np.inf, 0.05, 9.0])
def test_invalid_readings_are_ignored(bad):
    grid = RollingGrid(config())
    assert grid.integrate_scan(0.0, 0.0, 0.0, np.array([0.0]), np.array([bad]), 0.1, 8.0) == 0
    assert not grid.observed.any()


def test_inflation_grows_obstacles_by_the_radius():
    grid = RollingGrid(config(inflation_radius=0.5))
    grid.integrate_scan(0.0, 0.0, 0.0, np.array([0.0]), np.array([2.05]), 0.1, 8.0)
    values = grid.values()
    ix, iy = grid.cell_of(2.05, 0.0)
    rows, cols = np.nonzero(values >= INFLATED)
    distance = np.hypot(rows - iy, cols - ix) * 0.1
    assert distance.max() == pytest.approx(0.5, abs=0.01)
    assert value_at(grid, 2.05, 0.45) == INFLATED and value_at(grid, 2.05, 0.65) != INFLATED


def test_rolling_keeps_obstacles_at_their_world_position_and_forgets_what_leaves():
    grid = RollingGrid(config(inflation_radius=0.0))
    grid.integrate_scan(0.0, 0.0, 0.0, np.array([0.0, math.pi]), np.array([2.05, 3.05]), 0.1, 8.0)
    assert value_at(grid, 2.05, 0.0) == OCCUPIED and value_at(grid, -3.05, 0.0) == OCCUPIED
    assert grid.recentre(2.5, 0.0) == (25, 0)
    assert grid.origin == pytest.approx((-2.5, -5.0))
    assert value_at(grid, 2.05, 0.0) == OCCUPIED          # same world place
    ix, _ = grid.cell_of(-3.05, 0.0)
    assert ix < 0                                          # scrolled out of the grid
    assert grid.occupied().sum() == 1
    grid.recentre(0.0, 0.0)                                # coming back does not resurrect it
    assert grid.occupied().sum() == 1
    assert grid.recentre(0.0, 0.0) == (0, 0)
    grid.recentre(100.0, 100.0)
    assert not grid.observed.any()


def test_bad_configuration_is_refused():
    for kwargs in (dict(resolution=0.0), dict(size=0.1, resolution=0.1), dict(inflation_radius=-1.0),
                   dict(hit=-0.1), dict(max_mark_range=0.0)):
        with pytest.raises(ValueError):
            config(**kwargs)


def test_angles_and_ranges_must_match():
    with pytest.raises(ValueError):
        RollingGrid(config()).integrate_scan(0, 0, 0, np.zeros(3), np.zeros(2), 0.1, 8.0)
