"""The navigator against a tiny kinematic rover: odometry/filtered in map, a synthetic obstacle grid in
odom (map -> odom offset and rotated on tf_static), commands integrated back into the pose."""
import math
import subprocess
import sys
import time

import numpy as np
import pytest
import rclpy
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import OccupancyGrid, Odometry, Path
from rclpy.action import ActionClient
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter

from rover_interfaces.action import NavigateToGoal
from rover_stack.navigation.navigator_node import ACTION_NAME, COMMAND_TOPIC, NavigatorNode
from rover_stack.testing.waiting import spin_until
from rover_stack.tf.listener import StaticTransformBroadcaster
from rover_stack.tf.transform import Transform

Result = NavigateToGoal.Result
MAP_FROM_ODOM = Transform.from_xyz_rpy((2.0, -1.0, 0.0), (0.0, 0.0, 0.2))
OBSTACLE_MAP = (5.0, 0.0)       # centre of a 1.6 m square block in the map frame, between start and goal
OBSTACLE_HALF = 0.8
RESOLUTION = 0.1
GRID_CELLS = 300                # 30 m square grid in odom


class KinematicRover(rclpy.node.Node):
    """Integrates autonomy/cmd_vel (unicycle) into odometry/filtered (map frame) at 50 Hz; publishes the
    obstacle grid (odom frame) at 5 Hz and map -> odom on tf_static."""

    def __init__(self, context):
        super().__init__('kinematic_rover', context=context)
        self.x = self.y = self.yaw = 0.0
        self.v = self.w = 0.0
        self.publish_odom = True
        self.commands: list[tuple[float, float]] = []
        self.plans: list[Path] = []
        self.min_obstacle_clearance = math.inf
        self._last = time.monotonic()
        self._odom_pub = self.create_publisher(Odometry, 'odometry/filtered', 10)
        self._grid_pub = self.create_publisher(OccupancyGrid, 'obstacles/grid', 2)
        self.create_subscription(TwistStamped, COMMAND_TOPIC, self._on_cmd, 10)
        self.create_subscription(Path, 'plan', self.plans.append, 10)
        self._tf = StaticTransformBroadcaster(self)
        self._tf.send_transform('map', 'odom', 0, MAP_FROM_ODOM)
        self._grid = self._make_grid()
        self.create_timer(0.02, self._integrate)
        self.create_timer(0.2, lambda: self._grid_pub.publish(self._grid))

    def _make_grid(self) -> OccupancyGrid:
        grid = OccupancyGrid()
        grid.header.frame_id = 'odom'
        grid.info.resolution = RESOLUTION
        grid.info.width = grid.info.height = GRID_CELLS
        grid.info.origin.position.x = grid.info.origin.position.y = -10.0
        grid.info.origin.orientation.w = 1.0
        cols, rows = np.meshgrid(np.arange(GRID_CELLS), np.arange(GRID_CELLS))
        odom_x = -10.0 + (cols + 0.5) * RESOLUTION
        odom_y = -10.0 + (rows + 0.5) * RESOLUTION
        points = np.column_stack([odom_x.ravel(), odom_y.ravel(), np.zeros(odom_x.size)])
        in_map = MAP_FROM_ODOM.apply(points)
        inside = ((np.abs(in_map[:, 0] - OBSTACLE_MAP[0]) <= OBSTACLE_HALF)
                  & (np.abs(in_map[:, 1] - OBSTACLE_MAP[1]) <= OBSTACLE_HALF))
        grid.data = np.where(inside, 100, 0).astype(np.int8).tolist()
        return grid

    def _on_cmd(self, msg: TwistStamped) -> None:
        self.v, self.w = msg.twist.linear.x, msg.twist.angular.z
        self.commands.append((self.v, self.w))

    def _integrate(self) -> None:
        now = time.monotonic()
        dt, self._last = min(now - self._last, 0.1), now
        self.x += self.v * math.cos(self.yaw) * dt
        self.y += self.v * math.sin(self.yaw) * dt
        self.yaw += self.w * dt
        clearance = max(abs(self.x - OBSTACLE_MAP[0]), abs(self.y - OBSTACLE_MAP[1])) - OBSTACLE_HALF
        self.min_obstacle_clearance = min(self.min_obstacle_clearance, clearance)
        if not self.publish_odom:
            return
        msg = Odometry()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id, msg.child_frame_id = 'map', 'base_link'
        msg.pose.pose.position.x, msg.pose.pose.position.y = self.x, self.y
        msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(self.yaw / 2), math.cos(self.yaw / 2)
        msg.twist.twist.linear.x, msg.twist.twist.angular.z = self.v, self.w
        self._odom_pub.publish(msg)


@pytest.fixture
def setup(ros_context):
    overrides = [Parameter('max_speed', value=2.0), Parameter('max_angular', value=2.0),
                 Parameter('max_goal_distance', value=50.0), Parameter('robot_radius', value=0.5),
                 Parameter('wait_timeout', value=3.0)]
    navigator = NavigatorNode(context=ros_context, parameter_overrides=overrides)
    rover = KinematicRover(ros_context)
    client_node = rclpy.create_node('nav_client', context=ros_context)
    client = ActionClient(client_node, NavigateToGoal, ACTION_NAME)
    executor = SingleThreadedExecutor(context=ros_context)
    for node in (navigator, rover, client_node):
        executor.add_node(node)
    spin_until(executor, client.server_is_ready, 10.0, 'navigate_to_goal server')
    try:
        yield executor, rover, client, navigator
    finally:
        client.destroy()
        for node in (navigator, rover, client_node):
            executor.remove_node(node)
            node.destroy_node()
        executor.shutdown()


def goal(x, y, frame='map', **fields):
    request = NavigateToGoal.Goal(**fields)
    request.goal = PoseStamped()
    request.goal.header.frame_id = frame
    request.goal.pose.position.x, request.goal.pose.position.y = x, y
    request.goal.pose.orientation.w = 1.0
    return request


def send(executor, client, request, feedback=None):
    future = client.send_goal_async(request, feedback_callback=feedback)
    spin_until(executor, future.done, 5.0, 'goal response')
    handle = future.result()
    assert handle.accepted
    return handle


def result_of(executor, handle, timeout):
    future = handle.get_result_async()
    spin_until(executor, future.done, timeout, 'navigation result')
    return future.result().result


def test_reaches_a_goal_10_m_away_around_an_obstacle(setup):
    executor, rover, client, _ = setup
    feedback = []
    handle = send(executor, client, goal(10.0, 0.0, tolerance=0.4), lambda msg: feedback.append(msg.feedback))
    result = result_of(executor, handle, 40.0)
    assert result.error_code == Result.SUCCEEDED, result.message
    assert math.hypot(rover.x - 10.0, rover.y) <= 0.45
    assert 0.0 <= result.final_distance <= 0.4
    assert rover.min_obstacle_clearance > 0.3, 'the rover drove into or brushed the obstacle'
    spin_until(executor, lambda: rover.commands and rover.commands[-1] == (0.0, 0.0), 2.0, 'final zero command')
    assert rover.plans and rover.plans[0].header.frame_id == 'odom' and len(rover.plans[0].poses) >= 3
    assert feedback and feedback[0].distance_remaining > 9.0 and feedback[0].current_pose.header.frame_id == 'odom'
    assert max(v for v, _ in rover.commands) > 1.0



def test_goal_in_an_obstacle_margin_is_reached_at_the_nearest_free_point(setup):
    """A post's standoff point inside the obstacle's margin: the rover stops short of it, outside."""
    executor, rover, client, _ = setup
    handle = send(executor, client, goal(OBSTACLE_MAP[0] - OBSTACLE_HALF - 0.25, 0.0, tolerance=0.3))
    result = result_of(executor, handle, 30.0)
    assert result.error_code == Result.SUCCEEDED, result.message
    assert 'free point' in result.message
    assert 0.0 < result.final_distance <= 0.5 + 0.3 + 0.05
    assert rover.min_obstacle_clearance > 0.15, 'the rover drove into the margin of the obstacle'
    assert rover.x < OBSTACLE_MAP[0] - OBSTACLE_HALF - 0.25

def test_invalid_goals_are_refused(setup):
    executor, rover, client, navigator = setup
    spin_until(executor, lambda: navigator.localized, 5.0, 'the navigator to receive odometry')
    cases = [goal(float('nan'), 0.0), goal(1.0, 0.0, frame='moon'), goal(1.0, 0.0, frame=''),
             goal(100.0, 0.0), goal(1.0, 0.0, tolerance=-1.0), goal(1.0, 0.0, max_speed=float('inf'))]
    for request in cases:
        result = result_of(executor, send(executor, client, request), 5.0)
        assert result.error_code == Result.INVALID_GOAL, (request.goal.header.frame_id, result.message)
        assert result.message
    assert rover.commands == [], 'an invalid goal must not move the rover'


def test_new_goal_preempts_and_cancel_stops_with_a_zero_command(setup):
    executor, rover, client, _ = setup
    first = send(executor, client, goal(10.0, 0.0))
    spin_until(executor, lambda: any(v > 0.1 for v, _ in rover.commands), 10.0, 'the rover moving')
    second = send(executor, client, goal(0.0, 8.0, frame='odom'))
    preempted = result_of(executor, first, 5.0)
    assert preempted.error_code == Result.CANCELED and 'preempt' in preempted.message
    count = len(rover.commands)
    spin_until(executor, lambda: len(rover.commands) > count + 3, 5.0, 'commands for the second goal')
    cancel = second.cancel_goal_async()
    spin_until(executor, cancel.done, 5.0, 'cancel response')
    result = result_of(executor, second, 5.0)
    assert result.error_code == Result.CANCELED
    spin_until(executor, lambda: rover.commands[-1] == (0.0, 0.0), 2.0, 'a zero command after the cancel')


def test_stale_localization_stops_the_rover_then_fails(setup):
    executor, rover, client, _ = setup
    canceled = send(executor, client, goal(10.0, 0.0))    # first a goal that ends CANCELED (logged as info),
    cancel = canceled.cancel_goal_async()                  # then one that FAILS (a warning): the navigator
    spin_until(executor, cancel.done, 5.0, 'cancel response')   # once died of rclpy's "Logger severity
    assert result_of(executor, canceled, 5.0).error_code == Result.CANCELED   # cannot be changed" there
    handle = send(executor, client, goal(10.0, 0.0))
    spin_until(executor, lambda: any(v > 0.1 for v, _ in rover.commands), 10.0, 'the rover moving')
    rover.publish_odom = False
    spin_until(executor, lambda: rover.commands[-1] == (0.0, 0.0), 2.0, 'a zero command on stale odometry')
    result = result_of(executor, handle, 10.0)
    assert result.error_code == Result.FAILED and 'stale' in result.message
    assert rover.commands[-1] == (0.0, 0.0)


def test_nav2_backend_without_nav2_msgs_refuses_to_start(ros_context, monkeypatch):
    monkeypatch.setitem(sys.modules, 'nav2_msgs', None)          # as where Nav2 is not installed
    monkeypatch.setitem(sys.modules, 'nav2_msgs.action', None)
    with pytest.raises(ValueError, match='nav2_msgs'):
        NavigatorNode(context=ros_context, parameter_overrides=[Parameter('backend', value='nav2')])


def test_refused_parameters_exit_1_like_every_node():
    # the runner and launch see a failed start (it once exited 0 after logging the refusal)
    result = subprocess.run([sys.executable, '-m', 'rover_stack.navigation.navigator_node', '--ros-args',
                             '-p', 'max_speed:=50.0'], capture_output=True, text=True, timeout=120.0)
    assert result.returncode == 1, result.stderr
    assert 'parameter max_speed refused' in result.stderr
