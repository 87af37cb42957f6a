"""drive_controller over DDS: timeout to zero, e-stop latch and reset, bad commands, odometry, shutdown."""
import math
import time
from pathlib import Path

import pytest
import rclpy
import rclpy.duration
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.time import Time
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from rover_stack.common.qos import command_qos, latched_qos, sensor_qos
from rover_stack.description.geometry import load_geometry
from rover_stack.drive.drive_controller_node import DriveControllerNode
from rover_stack.testing.held_clock import HeldClock
from rover_stack.testing.waiting import spin_for, spin_until

CONFIG = Path(__file__).resolve().parents[2] / 'config'
SKID4 = str(CONFIG / 'robot' / 'skid4.yaml')
RADIUS = load_geometry(SKID4).wheel_radius


def stamp_s(msg) -> float:
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


class Harness:
    """The controller plus a probe node that publishes its inputs and records its outputs.

    The probe stands in for the hardware (``hardware_estop`` false every 0.5 s while ``heartbeat``)
    and, with ``armed``, for the operator: it calls ``reset_estop`` once the controller is up (a
    started controller is latched)."""

    def __init__(self, ctx, armed=True, heartbeat=True, **params):
        overrides = {'robot_config': SKID4, 'diagnostics_period': 0.2, **params}
        self.node = DriveControllerNode(
            context=ctx, parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()])
        self.probe = rclpy.create_node('drive_probe', context=ctx)
        self.executor = SingleThreadedExecutor(context=ctx)
        self.executor.add_node(self.node)
        self.executor.add_node(self.probe)
        self.cmd = self.probe.create_publisher(TwistStamped, 'cmd_vel', command_qos())
        self.cmd_unstamped = self.probe.create_publisher(Twist, 'cmd_vel_unstamped', command_qos())
        self.estop = self.probe.create_publisher(Bool, 'estop', latched_qos())
        self.hardware_estop = self.probe.create_publisher(Bool, 'hardware_estop', latched_qos())
        self.heartbeat = heartbeat
        self.probe.create_timer(0.5, lambda: self.heartbeat and self.hardware_estop.publish(Bool(data=False)))
        self.joints = self.probe.create_publisher(JointState, 'joint_states', sensor_qos())
        self.reset = self.probe.create_client(Trigger, 'reset_estop')
        self.wheels, self.odom, self.diagnostics, self.estop_state = [], [], [], []
        self.probe.create_subscription(JointState, 'wheel_commands', self.wheels.append, command_qos())
        self.probe.create_subscription(Odometry, 'odom', self.odom.append, command_qos())
        self.probe.create_subscription(DiagnosticArray, 'diagnostics', self.diagnostics.append, command_qos())
        self.probe.create_subscription(Bool, 'estop_state', self.estop_state.append, latched_qos())
        spin_until(self.executor, lambda: self.cmd.get_subscription_count() > 0 and self.wheels
                   and self.reset.service_is_ready(), 10.0, 'controller discovery')
        if armed:
            self.arm()

    def arm(self):
        """Reset the e-stop, again until accepted (the first hardware_estop may still be on its way)."""
        deadline = time.monotonic() + 10.0
        while not (answer := self.reset_estop()).success:
            assert time.monotonic() < deadline, f'reset_estop refused: {answer.message}'
            spin_for(self.executor, 0.2)

    def now(self):
        return self.probe.get_clock().now()

    def send(self, v, w=0.0):
        msg = TwistStamped()
        msg.header.stamp = self.now().to_msg()
        msg.header.frame_id = 'base_link'
        msg.twist.linear.x, msg.twist.angular.z = v, w
        self.cmd.publish(msg)
        return msg

    def drive(self, v, w, duration):
        """Publish (v, w) at 50 Hz for ``duration`` s; return the last message sent."""
        deadline = time.monotonic() + duration
        msg = None
        while time.monotonic() < deadline:
            msg = self.send(v, w)
            spin_for(self.executor, 0.02)
        return msg

    def reset_estop(self):
        future = self.reset.call_async(Trigger.Request())
        spin_until(self.executor, future.done, 5.0, 'reset_estop response')
        return future.result()

    def close(self):
        self.executor.shutdown()
        if self.node is not None:
            self.node.destroy_node()
        self.probe.destroy_node()


@pytest.fixture
def context():
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    yield ctx
    ctx.try_shutdown()


@pytest.fixture
def harness(context):
    h = Harness(context, linear_max_deceleration=10.0, linear_max_acceleration=10.0)
    yield h
    h.close()


def wheel_speed(msg):
    return msg.velocity[list(msg.name).index('wheel_front_left_joint')]


def all_zero(msg):
    return len(msg.velocity) == len(msg.name) > 0 and all(v == 0.0 for v in msg.velocity)


def moving_at(harness, v):
    return bool(harness.wheels) and math.isclose(wheel_speed(harness.wheels[-1]), v / RADIUS, rel_tol=1e-6)


def test_silence_brings_wheels_to_zero_within_0_6_s(harness):
    harness.drive(0.2, 0.0, 0.3)
    spin_until(harness.executor, lambda: moving_at(harness, 0.2), 3.0, 'wheels at 0.2 m/s')
    last = harness.send(0.2, 0.0)
    harness.wheels.clear()
    spin_until(harness.executor, lambda: harness.wheels and all_zero(harness.wheels[-1]), 3.0, 'zero wheels')
    first_zero = next(m for m in harness.wheels if all_zero(m))
    stopped_after = stamp_s(first_zero) - stamp_s(last)
    assert 0.45 <= stopped_after <= 0.6, f'wheels stopped {stopped_after:.3f} s after the last command'
    nonzero = [m for m in harness.wheels if stamp_s(m) < stamp_s(first_zero)]
    assert nonzero and not any(all_zero(m) for m in nonzero), 'held the command until the timeout'
    spin_for(harness.executor, 0.3)
    assert all(all_zero(m) for m in harness.wheels[harness.wheels.index(first_zero):])


def test_estop_latches_and_reset_is_refused_while_active(harness):
    harness.drive(0.3, 0.0, 0.3)
    spin_until(harness.executor, lambda: moving_at(harness, 0.3), 3.0, 'moving')
    harness.estop.publish(Bool(data=True))
    spin_until(harness.executor, lambda: harness.estop_state and harness.estop_state[-1].data, 3.0,
               'estop_state true')
    harness.wheels.clear()
    harness.drive(0.3, 0.0, 0.3)          # commands keep coming: the latch holds
    assert harness.wheels and all(all_zero(m) for m in harness.wheels)

    refused = harness.reset_estop()
    assert not refused.success and 'estop' in refused.message
    harness.wheels.clear()
    harness.drive(0.3, 0.0, 0.2)
    assert all(all_zero(m) for m in harness.wheels)

    harness.estop.publish(Bool(data=False))
    spin_for(harness.executor, 0.2)
    harness.wheels.clear()
    harness.drive(0.3, 0.0, 0.2)
    assert all(all_zero(m) for m in harness.wheels), 'releasing the source alone must not move the rover'
    accepted = harness.reset_estop()
    assert accepted.success, accepted.message
    spin_until(harness.executor, lambda: not harness.estop_state[-1].data, 3.0, 'estop_state false')
    harness.drive(0.3, 0.0, 0.3)
    spin_until(harness.executor, lambda: moving_at(harness, 0.3), 3.0, 'moving again after reset')


def test_a_started_controller_stays_latched_until_reset(context):
    """Issue #18 item 1: a (re)started controller came up unlatched and drove at once."""
    h = Harness(context, armed=False)
    try:
        h.drive(0.3, 0.0, 1.0)       # hardware_estop false, no e-stop anywhere: still no motion
        assert h.wheels and all(all_zero(m) for m in h.wheels), 'moved before reset_estop'
        spin_until(h.executor, lambda: h.estop_state and h.estop_state[-1].data, 3.0, 'estop_state true')
        h.arm()
        spin_until(h.executor, lambda: not h.estop_state[-1].data, 3.0, 'estop_state false')
        h.drive(0.3, 0.0, 0.3)
        spin_until(h.executor, lambda: moving_at(h, 0.3), 3.0, 'moving after the reset')
    finally:
        h.close()


def test_a_silent_hardware_estop_counts_as_pressed(context):
    """Issue #18 item 3: silence on hardware_estop (docs/hardware_interface.md: > 3 s) is a press;
    here the timeout is 1 s."""
    h = Harness(context, armed=False, heartbeat=False, hardware_estop_timeout=1.0)
    try:
        refused = h.reset_estop()
        assert not refused.success and 'hardware_estop' in refused.message, refused.message
        h.heartbeat = True
        h.arm()
        h.drive(0.3, 0.0, 0.3)
        spin_until(h.executor, lambda: moving_at(h, 0.3), 3.0, 'moving')
        h.heartbeat = False
        silent_at = time.monotonic()
        h.estop_state.clear()
        deadline = time.monotonic() + 3.0
        while not (h.estop_state and h.estop_state[-1].data):
            assert time.monotonic() < deadline, 'the silent hardware e-stop never latched'
            h.send(0.3, 0.0)
            spin_for(h.executor, 0.02)
        assert time.monotonic() - silent_at >= 1.0 - 0.5 - 0.1   # the last heartbeat: <= 0.5 s before
        h.wheels.clear()
        h.drive(0.3, 0.0, 0.3)
        assert all(all_zero(m) for m in h.wheels)
    finally:
        h.close()


def test_stale_stamped_commands_do_not_drive_by_default(harness):
    """Issue #18 item 4: the stamp check was off by default; a command stamped 2 s ago drove."""
    harness.wheels.clear()
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        msg = harness.send(0.0)
        msg.twist.linear.x = 0.3
        msg.header.stamp = (harness.now() - rclpy.duration.Duration(seconds=2.0)).to_msg()
        harness.cmd.publish(msg)
        spin_for(harness.executor, 0.02)
    spin_for(harness.executor, 0.1)
    assert harness.wheels and all(all_zero(m) for m in harness.wheels), 'a stale command drove'
    harness.drive(0.3, 0.0, 0.3)
    spin_until(harness.executor, lambda: moving_at(harness, 0.3), 3.0, 'moving on fresh commands')


def test_nan_commands_are_rejected_while_good_ones_pass(harness):
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        harness.send(0.25, 0.0)
        harness.send(math.nan, 0.0)
        harness.send(0.0, math.inf)
        harness.send(9.0, 0.0)            # beyond reject_linear_above
        spin_for(harness.executor, 0.02)
    spin_until(harness.executor, lambda: moving_at(harness, 0.25), 3.0, 'moving at the good command')

    def counted():
        if not harness.diagnostics:
            return False
        values = {kv.key: kv.value for kv in harness.diagnostics[-1].status[0].values}
        return (int(values.get('rejected_not_finite', 0)) >= 10
                and int(values.get('rejected_out_of_range', 0)) >= 5)
    spin_until(harness.executor, counted, 3.0, 'rejections in diagnostics')
    assert all(math.isfinite(v) for m in harness.wheels for v in m.velocity)


@pytest.mark.parametrize('feedback', ['velocity', 'position'])
def test_odometry_from_wheel_feedback_moving_straight(context, feedback):
    h = Harness(context)
    try:
        speed = 2.0          # rad/s at every wheel -> 0.3 m/s with 0.15 m wheels
        joints = h.node.geometry.wheel_joints
        start = h.now().nanoseconds * 1e-9
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            now = h.now()
            msg = JointState(name=joints)
            msg.header.stamp = now.to_msg()
            elapsed = now.nanoseconds * 1e-9 - start
            if feedback == 'velocity':
                msg.velocity = [speed] * len(joints)
            else:
                msg.position = [speed * elapsed] * len(joints)
            h.joints.publish(msg)
            spin_for(h.executor, 0.02)
        spin_until(h.executor, lambda: len(h.odom) > 20, 3.0, 'odometry')
        first, last = h.odom[5], h.odom[-1]
        rate = (last.pose.pose.position.x - first.pose.pose.position.x) / (stamp_s(last) - stamp_s(first))
        assert rate == pytest.approx(speed * RADIUS, rel=0.03)
        assert last.twist.twist.linear.x == pytest.approx(speed * RADIUS, rel=0.03)
        assert abs(last.pose.pose.position.y) < 1e-6 and abs(last.twist.twist.angular.z) < 1e-6
        assert (last.header.frame_id, last.child_frame_id) == ('odom', 'base_link')
        assert last.pose.covariance[0] > 0.0 and last.twist.covariance[35] > 0.0
        assert all(all_zero(m) for m in h.wheels), 'feedback alone must not command the wheels'
    finally:
        h.close()


def test_unstamped_twist_when_enabled(context):
    h = Harness(context, accept_unstamped_twist=True)
    try:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            msg = Twist()
            msg.linear.x = 0.1
            h.cmd_unstamped.publish(msg)
            spin_for(h.executor, 0.02)
        spin_until(h.executor, lambda: moving_at(h, 0.1), 3.0, 'moving on an unstamped twist')
    finally:
        h.close()


def test_destroying_the_node_publishes_zero(harness):
    harness.drive(0.3, 0.0, 0.3)
    spin_until(harness.executor, lambda: moving_at(harness, 0.3), 3.0, 'moving')
    harness.executor.remove_node(harness.node)
    harness.wheels.clear()
    harness.node.destroy_node()
    harness.node = None
    spin_until(harness.executor, lambda: any(all_zero(m) for m in harness.wheels), 3.0, 'the shutdown zero')
    spin_for(harness.executor, 0.2)
    assert all_zero(harness.wheels[-1]), 'the last command the hardware sees must be zero'


def test_bad_robot_config_refuses_to_start(context):
    with pytest.raises(ValueError, match='robot'):
        DriveControllerNode(context=context, parameter_overrides=[Parameter('robot_config', value='/nope.yaml')])


def test_clock_time_in_stamps(harness):
    harness.drive(0.1, 0.0, 0.1)
    spin_until(harness.executor, lambda: harness.wheels, 3.0, 'a wheel command')
    age = harness.now() - Time.from_msg(harness.wheels[-1].header.stamp)
    assert 0.0 <= age.nanoseconds * 1e-9 < 1.0


def test_corner_steering_commands(context):
    h = Harness(context, robot_config=str(CONFIG / 'robot' / 'corner6.yaml'))
    try:
        steering = []
        h.probe.create_subscription(JointState, 'steering_commands', steering.append, command_qos())
        target = h.node.core.kinematics.inverse(0.3, 0.5).steering_angles

        def steered():
            if not steering:
                return False
            last = dict(zip(steering[-1].name, steering[-1].position, strict=True))
            return all(math.isclose(last[j], a, abs_tol=1e-9) for j, a in target.items())
        deadline = time.monotonic() + 5.0
        while not (steered() and h.wheels and not all_zero(h.wheels[-1])):
            assert time.monotonic() < deadline, 'corner never steered and drove'
            h.send(0.3, 0.5)
            spin_for(h.executor, 0.02)
        first_moving = next(m for m in h.wheels if not all_zero(m))
        at_start = [m for m in steering if stamp_s(m) <= stamp_s(first_moving)][-1]
        angles = dict(zip(at_start.name, at_start.position, strict=True))
        assert all(abs(angles[j] - a) <= 0.1 + 1e-9 for j, a in target.items()), 'wheels wait for steering'
        assert any(0.0 < max(abs(a) for a in m.position) < 1.0 for m in steering), 'steering ramps'
    finally:
        h.close()


def test_corner_odometry_from_separate_wheel_and_steering_messages(context):
    h = Harness(context, robot_config=str(CONFIG / 'robot' / 'corner6.yaml'))
    try:
        g = h.node.geometry
        deadline = time.monotonic() + 1.2
        while time.monotonic() < deadline:
            stamp = h.now().to_msg()
            steering = JointState(name=g.steering_joints, position=[0.0] * len(g.steering_joints))
            wheels = JointState(name=g.wheel_joints, velocity=[2.0] * len(g.wheel_joints))
            steering.header.stamp = wheels.header.stamp = stamp
            h.joints.publish(steering)
            h.joints.publish(wheels)
            spin_for(h.executor, 0.02)
        spin_until(h.executor, lambda: len(h.odom) > 10, 3.0, 'odometry')
        assert h.odom[-1].twist.twist.linear.x == pytest.approx(2.0 * g.wheel_radius, rel=0.03)
        assert h.odom[-1].pose.pose.position.x > 0.1
    finally:
        h.close()


def test_a_command_reaches_the_wheels_on_arrival_not_on_the_next_tick(context):
    # Simulated time held between two /clock messages: the 1 Hz timer cannot tick, so the wheel command
    # that carries the twist can only come from the twist's arrival (event-driven path, issue #23).
    node = DriveControllerNode(context=context, parameter_overrides=[
        Parameter('robot_config', value=SKID4), Parameter('use_sim_time', value=True), Parameter('rate', value=1.0),
        Parameter('linear_max_acceleration', value=100.0), Parameter('linear_max_deceleration', value=100.0)])
    probe = rclpy.create_node('drive_event_probe', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    executor.add_node(probe)
    try:
        clock, wheels = HeldClock(probe), []
        hardware = probe.create_publisher(Bool, 'hardware_estop', latched_qos())
        probe.create_timer(0.2, lambda: hardware.publish(Bool(data=False)))     # wall time: always beating
        probe.create_subscription(JointState, 'wheel_commands', wheels.append, command_qos())
        cmd = probe.create_publisher(TwistStamped, 'cmd_vel', command_qos())
        reset = probe.create_client(Trigger, 'reset_estop')
        clock.set(executor, node, 100.0)
        spin_until(executor, lambda: reset.service_is_ready() and cmd.get_subscription_count() > 0
                   and node.core.active_estop_sources(node._now()) == (), 10.0, 'controller up, hardware heard')
        future = reset.call_async(Trigger.Request())
        spin_until(executor, future.done, 10.0, 'reset_estop response')
        assert future.result().success, future.result().message
        clock.set(executor, node, 100.3)                 # the next tick is due at 101 s
        wheels.clear()
        msg = TwistStamped()
        msg.header.stamp, msg.header.frame_id = node.get_clock().now().to_msg(), 'base_link'
        msg.twist.linear.x = 0.5
        cmd.publish(msg)
        spin_until(executor, lambda: any(math.isclose(wheel_speed(m), 0.5 / RADIUS) for m in wheels), 10.0,
                   'the wheel command carrying 0.5 m/s')
        assert node.get_clock().now().nanoseconds == 100_300_000_000     # time held: no tick ran
    finally:
        executor.shutdown()
        node.destroy_node()
        probe.destroy_node()
