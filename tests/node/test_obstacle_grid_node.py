"""obstacle_grid in-process: scans over DDS + odom/base/laser transforms -> an OccupancyGrid in odom."""
import math
import time

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from nav_msgs.msg import OccupancyGrid
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import LaserScan

from rover_stack.common.qos import command_qos, sensor_qos
from rover_stack.perception.obstacle_grid_node import ObstacleGridNode
from rover_stack.testing.waiting import DeadlineExceededError, spin_until
from rover_stack.tf.listener import StaticTransformBroadcaster, TransformBroadcaster
from rover_stack.tf.ros_conversions import stamp_to_ns
from rover_stack.tf.transform import Transform

TIMEOUT = 10.0
LASER = Transform((0.4, 0.0, 0.25))


@pytest.fixture
def rig(ros_context):
    node = ObstacleGridNode(context=ros_context, parameter_overrides=[
        Parameter('size', value=10.0), Parameter('rate', value=20.0), Parameter('inflation_radius', value=0.3)])
    probe = rclpy.create_node('scan_probe', context=ros_context)
    StaticTransformBroadcaster(probe).send_transform('base_link', 'laser_link', 0, LASER)
    tf = TransformBroadcaster(probe)
    scan_pub = probe.create_publisher(LaserScan, 'scan', sensor_qos())
    grids = []
    probe.create_subscription(OccupancyGrid, 'obstacles/grid', grids.append, command_qos())
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(probe)
    spin_until(executor, lambda: scan_pub.get_subscription_count() and tf.subscription_count(), TIMEOUT, 'wiring')

    def send(rover_x, rover_y, ranges):
        stamp = probe.get_clock().now().to_msg()
        tf.send_transform('odom', 'base_link', stamp_to_ns(stamp), Transform((rover_x, rover_y, 0.0)))
        scan = LaserScan(angle_min=-math.pi / 2, angle_max=math.pi / 2, angle_increment=math.pi / 180,
                         range_min=0.1, range_max=12.0)
        scan.header.stamp = stamp
        scan.header.frame_id = 'laser_link'
        scan.ranges = [float(r) for r in ranges]
        scan_pub.publish(scan)

    yield node, send, grids, executor
    executor.shutdown(timeout_sec=1.0)
    probe.destroy_node()
    node.destroy_node()


def repeat_until(executor, action, condition, what, period=0.2):
    """Do ``action`` every ``period`` s until ``condition`` holds (deadline TIMEOUT)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        action()
        try:
            spin_until(executor, condition, min(period, max(0.0, deadline - time.monotonic())), what)
            return
        except DeadlineExceededError:
            if time.monotonic() >= deadline:
                raise


def cell(grid: OccupancyGrid, x: float, y: float) -> int:
    ix = math.floor((x - grid.info.origin.position.x) / grid.info.resolution)
    iy = math.floor((y - grid.info.origin.position.y) / grid.info.resolution)
    return np.asarray(grid.data, dtype=np.int8).reshape(grid.info.height, grid.info.width)[iy, ix]


def rock_ahead(distance):
    ranges = np.full(181, np.inf)
    ranges[88:93] = distance          # a narrow rock straight ahead of the laser
    return ranges


def test_rock_is_marked_in_odom_free_space_cleared_and_the_grid_follows_the_rover(rig):
    _, send, grids, executor = rig
    # laser at (2.4, 1.0): rock at x = 5.45; best-effort scans may be lost until discovery settles
    repeat_until(executor, lambda: send(2.0, 1.0, rock_ahead(3.05)),
                 lambda: grids and cell(grids[-1], 5.45, 1.0) == 100, 'rock marked')
    grid = grids[-1]
    assert grid.header.frame_id == 'odom' and grid.info.width == grid.info.height == 100
    assert grid.info.origin.position.x == pytest.approx(2.0 - 5.0) and grid.info.resolution == pytest.approx(0.1)
    assert cell(grid, 4.0, 1.0) == 0                   # free along the ray
    assert cell(grid, 5.45, 1.25) == 99                # inflated by the rover radius
    assert cell(grid, 1.0, 4.0) == -1                  # behind the laser's field of view: unknown
    repeat_until(executor, lambda: send(3.0, 1.0, rock_ahead(2.05)),   # rover moved 1 m; the rock stays
                 lambda: grids[-1].info.origin.position.x > -2.5, 'grid recentred')
    assert grids[-1].info.origin.position.x == pytest.approx(3.0 - 5.0)
    assert cell(grids[-1], 5.45, 1.0) == 100


def test_scans_without_a_transform_and_invalid_scans_are_dropped(rig):
    node, _, grids, executor = rig
    bad = LaserScan(angle_increment=0.0, range_min=0.1, range_max=10.0, ranges=[1.0])
    node._on_scan(bad)
    spin_until(executor, lambda: node.counts['dropped_invalid'] == 1, TIMEOUT, 'invalid scan dropped')
    orphan = LaserScan(angle_min=0.0, angle_increment=0.1, range_min=0.1, range_max=10.0, ranges=[1.0])
    orphan.header.frame_id = 'unknown_frame'
    node._on_scan(orphan)
    spin_until(executor, lambda: node.counts['dropped_no_transform'] == 1, TIMEOUT, 'orphan scan dropped')
    assert grids == [] and node.grid is None


def test_without_a_scan_the_grid_follows_the_rover_and_the_diagnostics_say_avoidance_is_off(ros_context):
    """A rover without a lidar (rover profile, lidar:=none): after no_scan_timeout the diagnostics are ERROR
    'no scan ... obstacle avoidance is off', and a grid (all unknown) centred on the rover is published, so
    the navigator can still drive (docs/running.md)."""
    node = ObstacleGridNode(context=ros_context, parameter_overrides=[
        Parameter('size', value=10.0), Parameter('rate', value=20.0), Parameter('no_scan_timeout', value=0.5)])
    probe = rclpy.create_node('no_scan_probe', context=ros_context)
    tf = TransformBroadcaster(probe)
    grids, diagnostics = [], []
    probe.create_subscription(OccupancyGrid, 'obstacles/grid', grids.append, command_qos())
    probe.create_subscription(DiagnosticArray, 'diagnostics', diagnostics.append, command_qos())
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(probe)
    try:
        spin_until(executor, tf.subscription_count, TIMEOUT, 'wiring')

        def moved_grid():
            stamp = probe.get_clock().now().to_msg()
            tf.send_transform('odom', 'base_link', stamp_to_ns(stamp), Transform((30.0, -4.0, 0.0)))
            executor.spin_once(timeout_sec=0.05)
            return grids and abs(grids[-1].info.origin.position.x + 5.0 - 30.0) < 0.5

        deadline = time.monotonic() + TIMEOUT
        while not moved_grid():
            assert time.monotonic() < deadline, 'no grid centred on the rover without scans'
        assert set(np.frombuffer(bytes(grids[-1].data), dtype=np.int8).tolist()) == {-1}
        spin_until(executor, lambda: any(s.level == DiagnosticStatus.ERROR and 'no scan' in s.message
                                         for d in diagnostics for s in d.status), TIMEOUT, 'no-scan diagnostics')
        assert 'obstacle avoidance is off' in diagnostics[-1].status[0].message
    finally:
        executor.shutdown(timeout_sec=1.0)
        probe.destroy_node()
        node.destroy_node()
