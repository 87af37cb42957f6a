"""Costmap: inflation gradient, unknown cost, world <-> cell conversion."""
import math

import numpy as np
import pytest

from rover_stack.navigation.costmap import INSCRIBED, LETHAL, Costmap, CostmapConfig, densify, inflation_cost

CONFIG = CostmapConfig(robot_radius=0.3, inflation_radius=1.0, cost_decay=2.0, unknown_cost=0.4)


def grid_with(cells, width=21, height=21, value=100):
    data = np.zeros((height, width), dtype=int)
    for row, col in cells:
        data[row, col] = value
    return data.ravel().tolist()


def test_inflation_values_by_distance():
    costmap = Costmap.from_occupancy(grid_with([(10, 10)]), (21, 21), 0.1, (0.0, 0.0), config=CONFIG)
    row = costmap.cost[10]
    assert row[10] == LETHAL
    assert row[13] == LETHAL                      # 0.3 m: within the robot radius
    assert row[14] == pytest.approx(INSCRIBED * math.exp(-2.0 * 0.1))
    assert row[17] == pytest.approx(INSCRIBED * math.exp(-2.0 * 0.4))
    assert row[20] == 0.0                         # 1.0 m: beyond the inflation radius
    assert np.all(np.diff(row[13:]) <= 0)         # falls with distance


def test_inflation_cost_function_edges():
    assert inflation_cost(np.array([0.0, 0.3, 1.0, 5.0]), CONFIG).tolist() == [LETHAL, LETHAL, 0.0, 0.0]


def test_unknown_cells_get_the_unknown_cost_and_below_threshold_is_free():
    data = np.zeros((5, 5), dtype=int)
    data[0, 0] = -1
    data[4, 4] = 99       # obstacle_grid's own inflation: below the default threshold of 100
    costmap = Costmap.from_occupancy(data.ravel(), (5, 5), 0.5, (0.0, 0.0), config=CONFIG)
    assert costmap.cost[0, 0] == pytest.approx(0.4)
    assert costmap.cost[4, 4] == 0.0


def test_empty_grid_has_zero_cost():
    costmap = Costmap.from_occupancy([0] * 100, (10, 10), 0.1, (-0.5, -0.5), config=CONFIG)
    assert not costmap.cost.any()


def test_world_cell_round_trip_and_bounds():
    costmap = Costmap(np.zeros((20, 10)), 0.5, (-2.0, 3.0))
    assert costmap.bounds == (-2.0, 3.0, 3.0, 13.0)
    row, col = costmap.world_to_cell(0.26, 4.9)
    assert (int(row), int(col)) == (3, 4)
    x, y = costmap.cell_to_world(row, col)
    assert (float(x), float(y)) == (0.25, 4.75)
    assert costmap.contains(2.99, 12.99) and not costmap.contains(3.0, 5.0) and not costmap.contains(-2.1, 5)
    assert costmap.cost_at(np.array([100.0]), np.array([0.0]), outside=0.7).tolist() == [0.7]


@pytest.mark.parametrize('bad', [dict(width=3, height=3), dict(width=0, height=4)])
def test_bad_shapes_are_refused(bad):
    with pytest.raises(ValueError):
        Costmap.from_occupancy([0] * 4, (bad['width'], bad['height']), 0.1, (0, 0))


def test_bad_config_is_refused():
    with pytest.raises(ValueError):
        CostmapConfig(unknown_cost=1.5)
    with pytest.raises(ValueError):
        CostmapConfig(robot_radius=float('nan'))


def test_densify_spacing_and_ends():
    points = densify(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.5]]), 0.1)
    assert points[0].tolist() == [0.0, 0.0] and points[-1].tolist() == [1.0, 0.5]
    assert np.max(np.hypot(*np.diff(points, axis=0).T)) <= 0.1 + 1e-12
