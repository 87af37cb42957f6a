"""End to end on the simulator: the navigator drives 15 m through the rock field without touching a rock.

Processes: rover_simulator (MuJoCo, rock_field with the start moved to (-18, 0) just before the rocks, no
camera) and navigator (config/navigation.yaml). In this test process, one DDS participant for the rest:
drive_controller, cmd_arbitration, the obstacle grid, the action client and the collision monitor.
Everything runs on sim time. This tests planning and following on the simulated physics, with perfect
perception and localization:

* localization: the navigator's ``odometry/filtered`` is remapped to ``sim/ground_truth`` (map frame).
  Wheel odometry alone drifted 0.7 m sideways after 5 m and 1.6 m after 15 m through the swerves (skid
  turns slip; measured), enough to hit a rock, and the EKF needs 8 m of GNSS track for a heading.
* obstacles: a grid in the map frame drawn from the course's rock list, not obstacle_grid from ``scan``:
  the simulated rocks are ellipsoids 0.6 x radius tall (0.13..0.3 m) and the planar scan at laser_link
  (0.40 m above the ground) passes over every one of them (measured: the rover drove into rock 0).

Few participants on purpose: the loopback-only Fast DDS profile discovers unicast peers by participant
index and, with its default range, processes started beyond the first few do not all discover each other.
"""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import rclpy
import yaml
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import OccupancyGrid, Odometry, Path
from rclpy.action import ActionClient
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from std_msgs.msg import String

from rover_interfaces.action import NavigateToGoal
from rover_stack.common.qos import command_qos
from rover_stack.common.share_files import package_share_dir
from rover_stack.drive.cmd_arbitration_node import CmdArbitrationNode
from rover_stack.drive.drive_controller_node import DriveControllerNode
from rover_stack.drive.estop_reset import reset_estop
from rover_stack.navigation.navigator_node import ACTION_NAME
from rover_stack.testing.sim_stack import send_goal
from rover_stack.testing.waiting import spin_until

START = (-18.0, 0.0)            # world (map) frame, heading east
GOAL = (-3.0, 0.0)              # map frame, 15 m east of the start, past 5 rocks
DRIVE_TIMEOUT = 150.0           # s wall
GRID_RESOLUTION = 0.1           # m
GRID_SIZE = (30.0, 20.0)        # m, x and y extent of the grid
GRID_ORIGIN = (START[0] - 5.0, START[1] - 10.0)   # m, map frame


def rock_grid(course: dict) -> OccupancyGrid:
    """The course's rocks (100, their footprint radius x 0.9 radius) in the map frame; the rest free."""
    cols, rows = (round(extent / GRID_RESOLUTION) for extent in GRID_SIZE)
    grid = OccupancyGrid()
    grid.header.frame_id = 'map'
    grid.info.resolution, grid.info.width, grid.info.height = GRID_RESOLUTION, cols, rows
    grid.info.origin.position.x, grid.info.origin.position.y = GRID_ORIGIN
    grid.info.origin.orientation.w = 1.0
    x = GRID_ORIGIN[0] + (np.arange(cols) + 0.5) * GRID_RESOLUTION
    y = GRID_ORIGIN[1] + (np.arange(rows) + 0.5) * GRID_RESOLUTION
    xx, yy = np.meshgrid(x, y)
    occupied = np.zeros((rows, cols), dtype=bool)
    for rock in course['rocks']:
        r = float(rock['radius'])
        occupied |= ((xx - rock['x']) / r) ** 2 + ((yy - rock['y']) / (0.9 * r)) ** 2 <= 1.0
    grid.data = np.where(occupied, 100, 0).astype(np.int8).ravel().tolist()
    return grid


def node_parameters(file: str, node: str, **extra) -> list[Parameter]:
    """Parameters of ``node`` from a package config file (nested keys flattened with dots) plus ``extra``."""
    data = yaml.safe_load((package_share_dir() / 'config' / file).read_text())[f'/**/{node}']['ros__parameters']

    def flat(prefix, value):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from flat(f'{prefix}{key}.', item)
        elif isinstance(value, list):   # PyYAML reads 1.0e6 as a string; ROS (YAML 1.2) as a float
            yield prefix[:-1], [_number(item) for item in value]
        else:
            yield prefix[:-1], _number(value)

    values = dict(flat('', data))
    values.update(extra)
    return [Parameter(name, value=value) for name, value in values.items()]


def _number(value):
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


class Process:
    """``python -m MODULE ARGS`` in its own process group; SIGINT on close, SIGKILL if it hangs."""

    def __init__(self, args: list[str], log_path):
        self.log = open(log_path, 'w')
        self.process = subprocess.Popen([sys.executable, '-m', *args], stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, process_group=0, env=os.environ.copy())

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=10.0)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5.0)
        self.log.close()


@pytest.fixture
def course_file(tmp_path):
    course = yaml.safe_load((package_share_dir() / 'sim' / 'courses' / 'rock_field.yaml').read_text())
    course.update(name='rock_field_nav', start={'x': START[0], 'y': START[1], 'yaw': 0.0})
    course.pop('mission_file', None)
    path = tmp_path / 'rock_field_nav.yaml'
    path.write_text(yaml.safe_dump(course))
    return path, course


@pytest.fixture
def stack(tmp_path, course_file):
    share = package_share_dir()
    course_file, course = course_file
    processes = [
        Process(['rover_stack.sim.rover_simulator_node', '--ros-args', '--params-file', str(share / 'config/simulator.yaml'),
                 '-p', f'course:={course_file}', '-p', 'camera.rate:=0.0'], tmp_path / 'sim.log'),
        Process(['rover_stack.navigation.navigator_node', '--ros-args', '--params-file',
                 str(share / 'config/navigation.yaml'), '-p', 'use_sim_time:=true',
                 '-r', 'odometry/filtered:=sim/ground_truth'], tmp_path / 'navigator.log'),
    ]
    context = rclpy.Context()
    rclpy.init(context=context)
    nodes = []
    executor = SingleThreadedExecutor(context=context)
    try:
        sim_time = {'use_sim_time': True}
        nodes += [
            DriveControllerNode(context=context, parameter_overrides=node_parameters(
                'drive.yaml', 'drive_controller', **sim_time)),
            CmdArbitrationNode(context=context, parameter_overrides=node_parameters(
                'drive.yaml', 'cmd_arbitration', **sim_time)),
        ]
        client_node = rclpy.create_node('nav_system_client', context=context)
        nodes.append(client_node)
        grid = rock_grid(course)
        grid_pub = client_node.create_publisher(OccupancyGrid, 'obstacles/grid', command_qos(depth=2))
        client_node.create_timer(0.5, lambda: grid_pub.publish(grid))
        for node in nodes:
            executor.add_node(node)
        yield executor, client_node, tmp_path
    finally:
        executor.shutdown(timeout_sec=1.0)
        for node in nodes:
            node.destroy_node()
        context.try_shutdown()
        for process in processes:
            process.close()


def test_navigator_crosses_the_rock_field_without_collisions(stack):
    executor, node, log_dir = stack
    collisions: list[dict] = []
    truth: list[Odometry] = []
    node.create_subscription(String, 'sim/collisions', lambda m: collisions.append(json.loads(m.data)),
                             command_qos())
    node.create_subscription(Odometry, 'sim/ground_truth', truth.append, command_qos())
    plans: list[Path] = []
    odometry: list[Odometry] = []
    node.create_subscription(Path, 'plan', plans.append, command_qos())
    node.create_subscription(Odometry, 'odom', odometry.append, command_qos())
    client = ActionClient(node, NavigateToGoal, ACTION_NAME)
    spin_until(executor, client.server_is_ready, 60.0, 'the navigate_to_goal server')
    spin_until(executor, lambda: truth, 60.0, 'the simulator ground truth')
    reset_estop(node, executor)     # a started drive controller is latched: the operator resets it
    goal = NavigateToGoal.Goal(goal=PoseStamped(), tolerance=0.5)
    goal.goal.header.frame_id = 'map'
    goal.goal.pose.position.x, goal.goal.pose.position.y = GOAL
    goal.goal.pose.orientation.w = 1.0
    handle = send_goal(client, executor, goal, timeout=30.0)   # re-sent if the reply is lost in discovery
    assert handle.accepted
    result_future = handle.get_result_async()
    spin_until(executor, result_future.done, DRIVE_TIMEOUT, 'the navigation result')
    result = result_future.result().result
    client.destroy()
    end = truth[-1].pose.pose.position
    logs = f'(logs and trace.json in {log_dir})'
    trace = {
        'truth': [(m.pose.pose.position.x, m.pose.pose.position.y) for m in truth[::10]],
        'odom': [(m.pose.pose.position.x, m.pose.pose.position.y) for m in odometry[::10]],
        'plans': [[(p.pose.position.x, p.pose.position.y) for p in plan.poses] for plan in plans],
        'collisions': collisions, 'result': [result.error_code, result.message]}
    (log_dir / 'trace.json').write_text(json.dumps(trace))
    assert result.error_code == NavigateToGoal.Result.SUCCEEDED, f'{result.message} {logs}'
    assert collisions == [], f'the rover touched rocks: {collisions} {logs}'
    assert math.hypot(end.x - GOAL[0], end.y - GOAL[1]) < 0.6, (end.x, end.y)
