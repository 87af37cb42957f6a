"""Planner: paths around obstacles, no-path reasons, goals off the grid, replanning trigger."""
import numpy as np
import pytest

from rover_stack.navigation.costmap import LETHAL, Costmap, CostmapConfig
from rover_stack.navigation.planner import (
    DISCONNECTED,
    GOAL_IN_LETHAL,
    START_IN_LETHAL,
    START_OFF_GRID,
    NoPathError,
    PlannerConfig,
    path_blocked,
    plan_path,
)

CONFIG = CostmapConfig(robot_radius=0.3, inflation_radius=0.8)


def costmap_from(occupancy: np.ndarray, resolution=0.1, origin=(0.0, 0.0)) -> Costmap:
    rows, cols = occupancy.shape
    return Costmap.from_occupancy(occupancy.ravel(), (cols, rows), resolution, origin, config=CONFIG)


def wall_grid(gap_rows=None):
    """10 m x 10 m, a wall at x = 5 m from y = 0 to 8 m (open above), or a full wall with a gap."""
    occupancy = np.zeros((100, 100), dtype=int)
    occupancy[:80, 50] = 100
    if gap_rows is not None:
        occupancy[:, 50] = 100
        occupancy[gap_rows, 50] = 0
    return occupancy


def assert_collision_free(costmap, points):
    assert costmap.max_cost_along(points) < LETHAL


def test_straight_path_in_free_space_is_one_segment():
    costmap = costmap_from(np.zeros((50, 50), dtype=int))
    plan = plan_path(costmap, (0.5, 0.5), (4.5, 3.0))
    assert len(plan.points) == 2
    assert plan.points[0].tolist() == [0.5, 0.5] and plan.points[-1].tolist() == [4.5, 3.0]
    assert not plan.clipped


def test_path_goes_around_a_wall():
    costmap = costmap_from(wall_grid())
    plan = plan_path(costmap, (2.0, 2.0), (8.0, 2.0))
    assert_collision_free(costmap, plan.points)
    assert plan.points[:, 1].max() > 8.0            # over the top of the wall
    assert plan.length < 20.0


def test_path_through_a_gap():
    costmap = costmap_from(wall_grid(gap_rows=slice(40, 52)))
    plan = plan_path(costmap, (2.0, 2.0), (8.0, 2.0))
    assert_collision_free(costmap, plan.points)
    crossing = plan.points[np.argmin(np.abs(plan.points[:, 0] - 5.0))]
    assert 3.9 < crossing[1] < 5.3


def test_closed_wall_is_disconnected():
    costmap = costmap_from(wall_grid(gap_rows=slice(0, 0)))
    with pytest.raises(NoPathError) as caught:
        plan_path(costmap, (2.0, 2.0), (8.0, 2.0))
    assert caught.value.reason == DISCONNECTED


def test_start_and_goal_in_lethal_and_start_off_grid():
    costmap = costmap_from(wall_grid())
    for start, goal, reason in [((5.0, 2.0), (8.0, 2.0), START_IN_LETHAL),
                                ((2.0, 2.0), (5.1, 2.0), GOAL_IN_LETHAL),
                                ((-1.0, 2.0), (8.0, 2.0), START_OFF_GRID)]:
        with pytest.raises(NoPathError) as caught:
            plan_path(costmap, start, goal)
        assert caught.value.reason == reason, (start, goal)
        assert str(caught.value)


def test_goal_beyond_the_grid_plans_to_the_edge_towards_it():
    costmap = costmap_from(np.zeros((100, 100), dtype=int), origin=(-5.0, -5.0))
    plan = plan_path(costmap, (0.0, 0.0), (100.0, 10.0), PlannerConfig(boundary_margin=0.3))
    assert plan.clipped
    tx, ty = plan.target
    assert tx == pytest.approx(4.7, abs=0.1)
    assert ty == pytest.approx(0.47, abs=0.1)       # on the straight line to the goal


def test_goal_beyond_the_grid_behind_an_obstacle_picks_a_free_edge_cell():
    occupancy = np.zeros((100, 100), dtype=int)
    occupancy[40:60, 90:] = 100                      # blocks the exit point
    costmap = costmap_from(occupancy, origin=(-5.0, -5.0))
    plan = plan_path(costmap, (0.0, 0.0), (50.0, 0.0))
    assert plan.clipped
    assert costmap.cost_at(*plan.target) < LETHAL
    assert_collision_free(costmap, plan.points)


def test_large_grid_uses_the_coarse_search_and_falls_back_to_full_resolution():
    occupancy = np.zeros((200, 200), dtype=int)
    occupancy[:, 100] = 100
    occupancy[96:103, 100] = 0                       # 0.7 m gap: one free cell row after inflation
    costmap = Costmap.from_occupancy(occupancy.ravel(), (200, 200), 0.1, (0.0, 0.0),
                                     config=CostmapConfig(robot_radius=0.3, inflation_radius=0.5))
    config = PlannerConfig(max_search_cells=10_000)  # factor 2: the pooled gap closes
    plan = plan_path(costmap, (2.0, 2.0), (18.0, 2.0), config)
    assert plan.coarse_factor == 1
    open_grid = costmap_from(np.zeros((200, 200), dtype=int))
    assert plan_path(open_grid, (2.0, 2.0), (18.0, 15.0), config).coarse_factor == 2



def post_grid():
    """10 m x 10 m with one post cell at (5.05, 5.05): lethal within robot_radius 0.3 m of it."""
    occupancy = np.zeros((100, 100), dtype=int)
    occupancy[50, 50] = 100
    return occupancy


def test_goal_in_an_obstacle_margin_moves_to_the_nearest_free_cell_within_the_radius():
    costmap = costmap_from(post_grid())
    goal = (5.25, 5.05)                          # 0.2 m from the post: inside its 0.3 m margin
    assert costmap.cost_at(*goal) >= LETHAL
    plan = plan_path(costmap, (1.0, 5.0), goal, PlannerConfig(goal_relocation_radius=0.5))
    assert plan.relocated and not plan.clipped
    assert costmap.cost_at(*plan.target) < LETHAL
    assert 0.05 < np.hypot(plan.target[0] - goal[0], plan.target[1] - goal[1]) <= 0.5
    assert np.hypot(plan.target[0] - 5.05, plan.target[1] - 5.05) > 0.3
    assert tuple(plan.points[-1]) == plan.target
    assert_collision_free(costmap, plan.points)


def test_goal_relocation_is_bounded_and_off_by_default():
    costmap = costmap_from(post_grid())
    for config in (PlannerConfig(), PlannerConfig(goal_relocation_radius=0.05)):
        with pytest.raises(NoPathError) as caught:
            plan_path(costmap, (1.0, 5.0), (5.05, 5.05), config)
        assert caught.value.reason == GOAL_IN_LETHAL
    free = plan_path(costmap, (1.0, 5.0), (3.0, 5.0), PlannerConfig(goal_relocation_radius=0.5))
    assert not free.relocated and free.target == (3.0, 5.0)
    with pytest.raises(ValueError):
        PlannerConfig(goal_relocation_radius=-0.1)

def test_start_in_an_obstacle_margin_leaves_through_the_nearest_free_cell():
    costmap = costmap_from(post_grid())
    start = (5.3, 5.05)                          # 0.25 m from the post: inside its 0.3 m margin
    assert costmap.cost_at(*start) >= LETHAL
    plan = plan_path(costmap, start, (9.0, 5.0), PlannerConfig(start_escape_radius=0.5))
    assert plan.escaped and tuple(plan.points[0]) == start
    exit_cell = plan.points[1]
    assert costmap.cost_at(*exit_cell) < LETHAL and np.hypot(*(exit_cell - start)) <= 0.5
    assert np.hypot(exit_cell[0] - 5.05, exit_cell[1] - 5.05) > np.hypot(start[0] - 5.05, start[1] - 5.05)
    assert_collision_free(costmap, plan.points[1:])
    assert tuple(plan.points[-1]) == (9.0, 5.0)


def test_start_escape_is_bounded_and_off_by_default():
    costmap = costmap_from(post_grid())
    for config in (PlannerConfig(), PlannerConfig(start_escape_radius=0.05)):
        with pytest.raises(NoPathError) as caught:
            plan_path(costmap, (5.05, 5.05), (9.0, 5.0), config)
        assert caught.value.reason == START_IN_LETHAL
    free = plan_path(costmap, (1.0, 5.0), (3.0, 5.0), PlannerConfig(start_escape_radius=0.5))
    assert not free.escaped and tuple(free.points[0]) == (1.0, 5.0)
    with pytest.raises(ValueError):
        PlannerConfig(start_escape_radius=-0.1)


def test_path_blocked_detects_new_lethal_cells():
    empty = costmap_from(np.zeros((100, 100), dtype=int))
    plan = plan_path(empty, (1.0, 5.0), (9.0, 5.0))
    assert not path_blocked(empty, plan.points)
    occupancy = np.zeros((100, 100), dtype=int)
    occupancy[45:55, 50] = 100
    assert path_blocked(costmap_from(occupancy), plan.points)
    assert not path_blocked(empty, np.zeros((0, 2)))


def test_seeded_random_field_paths_are_collision_free():
    rng = np.random.default_rng(7)
    occupancy = np.where(rng.random((150, 150)) < 0.01, 100, 0)
    occupancy[:12, :12] = 0
    occupancy[-12:, -12:] = 0
    costmap = costmap_from(occupancy)
    plan = plan_path(costmap, (0.5, 0.5), (14.5, 14.5))
    assert_collision_free(costmap, plan.points)
