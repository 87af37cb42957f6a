"""rover_simulator in-process: /clock, command validation, the e-stop service, ground truth, lockstep."""
import itertools
import math
import time

import pytest
import rclpy
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool
from std_srvs.srv import SetBool

from rover_stack.common.qos import command_qos, latched_qos, sensor_qos
from rover_stack.sim.rover_simulator_node import RoverSimulatorNode
from rover_stack.testing.waiting import spin_until

WHEELS = ['wheel_front_left_joint', 'wheel_front_right_joint', 'wheel_rear_left_joint', 'wheel_rear_right_joint']


@pytest.fixture
def rig(ros_context):
    created = []

    def make(**params):
        overrides = [Parameter('camera.rate', value=0.0)] + [Parameter(k, value=v) for k, v in params.items()]
        sim = RoverSimulatorNode(context=ros_context, parameter_overrides=overrides)
        probe = SimulatorProbe(ros_context)
        executor = SingleThreadedExecutor(context=ros_context)
        executor.add_node(sim)
        executor.add_node(probe.node)
        created.extend([sim, probe.node, executor])
        return sim, probe, executor

    yield make
    for item in reversed(created):
        if isinstance(item, SingleThreadedExecutor):
            item.shutdown(timeout_sec=1.0)
        else:
            item.destroy_node()


class SimulatorProbe:
    """A test node: publishes wheel commands, records /clock, hardware_estop and ground truth."""

    def __init__(self, context):
        self.node = rclpy.create_node('sim_probe', context=context)
        self.clock: float | None = None
        self.estop: list[bool] = []
        self.truth: Odometry | None = None
        self.wheels = self.node.create_publisher(JointState, 'wheel_commands', command_qos())
        self.node.create_subscription(Clock, '/clock', self._on_clock, sensor_qos(10))
        self.node.create_subscription(Bool, 'hardware_estop', lambda m: self.estop.append(m.data), latched_qos())
        self.node.create_subscription(Odometry, 'sim/ground_truth', self._on_truth, command_qos())
        self.estop_client = self.node.create_client(SetBool, 'sim/estop')

    def _on_clock(self, msg):
        self.clock = msg.clock.sec + msg.clock.nanosec * 1e-9

    def _on_truth(self, msg):
        self.truth = msg

    def command(self, names, velocities):
        msg = JointState(name=list(names), velocity=[float(v) for v in velocities])
        msg.header.stamp = self.node.get_clock().now().to_msg()
        self.wheels.publish(msg)


def test_bad_commands_are_rejected_and_counted_and_good_ones_drive(rig):
    sim, probe, executor = rig(real_time_factor=0.0)
    spin_until(executor, lambda: probe.clock is not None and probe.clock > 0.1, 10.0, '/clock')
    spin_until(executor, lambda: probe.truth is not None, 5.0, 'ground truth')
    assert probe.truth.header.frame_id == 'map' and probe.truth.child_frame_id == 'base_link'
    probe.command(['wheel_middle_left_joint'], [1.0])
    probe.command(WHEELS, [1.0, math.nan, 1.0, 1.0])
    probe.command(WHEELS, [1.0, 1.0])
    spin_until(executor, lambda: sim.rejected['wheel_commands'] == 3, 5.0, 'three rejections')
    assert abs(probe.truth.twist.twist.linear.x) < 0.01
    start = probe.truth.pose.pose.position.x

    def drive_and_check():
        probe.command(WHEELS, [5.0] * 4)
        return probe.truth.pose.pose.position.x > start + 0.5
    spin_until(executor, drive_and_check, 20.0, 'the rover to drive 0.5 m')
    assert sim.rejected['wheel_commands'] == 3


def test_estop_service_presses_and_releases_the_hardware_estop(rig):
    sim, probe, executor = rig(real_time_factor=0.0)
    spin_until(executor, lambda: probe.estop, 5.0, 'hardware_estop')
    assert probe.estop[-1] is False
    assert probe.estop_client.wait_for_service(timeout_sec=5.0)
    future = probe.estop_client.call_async(SetBool.Request(data=True))
    spin_until(executor, future.done, 5.0, 'sim/estop response')
    assert future.result().success
    spin_until(executor, lambda: probe.estop[-1] is True, 5.0, 'hardware_estop true')
    assert sim.sim.estop_pressed
    future = probe.estop_client.call_async(SetBool.Request(data=False))
    spin_until(executor, lambda: future.done() and probe.estop[-1] is False, 5.0, 'hardware_estop false')


def test_lockstep_waits_for_commands_within_its_wall_clock_bound(rig):
    sim, probe, executor = rig(lockstep=True, lockstep_timeout=0.5, control_period=0.02)
    spin_until(executor, lambda: probe.clock is not None, 5.0, 'first /clock')
    # no commands: one control period per 0.5 s of wall time, never a hang
    first = sim.sim.time
    spin_until(executor, lambda: sim.sim.time >= first + 0.04 - 1e-9, 3.0, 'two bounded advances')
    assert sim.sim.time <= first + 0.06 + 1e-9
    # a command after every advance: the sim runs as fast as the commands come
    seen = [sim.sim.time]

    def answer():
        if sim.sim.time != seen[-1]:
            seen.append(sim.sim.time)
            probe.command(WHEELS, [0.0] * 4)
        return len(seen) > 50
    probe.command(WHEELS, [0.0] * 4)
    spin_until(executor, answer, 10.0, '50 lockstep advances')
    steps = [round((b - a) / 0.02) for a, b in itertools.pairwise(seen)]
    assert set(steps) == {1}


def test_pacing_holds_the_clock_for_a_lagging_consumer_but_not_for_a_silent_one(rig):
    sim, probe, executor = rig(real_time_factor=0.0, pace_max_lag=0.3, pace_silence=2.0)
    odometry = probe.node.create_publisher(Odometry, 'odometry/filtered', command_qos())
    spin_until(executor, lambda: probe.clock is not None and probe.clock > 1.0, 10.0, '/clock past 1 s')
    spin_until(executor, lambda: odometry.get_subscription_count() > 0, 5.0, 'the simulator subscribed')
    stamp = sim.sim.time                  # a consumer whose output stops advancing at this sim time
    msg = Odometry()
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(stamp), round((stamp % 1.0) * 1e9)
    odometry.publish(msg)
    spin_until(executor, lambda: sim._pacer.stats.held_ticks > 0, 5.0, 'the clock held')
    # Held while the source counts as alive (pace_silence 2 s of wall time after its message)...
    held_at = sim.sim.time
    until = time.monotonic() + 0.5
    while time.monotonic() < until:
        executor.spin_once(timeout_sec=0.05)
    assert sim.sim.time == held_at
    assert sim._pacer.stats.held_by['odometry/filtered'] > 0
    # ...and running again once it has been silent that long: a dead consumer never freezes the clock.
    spin_until(executor, lambda: sim.sim.time > held_at + 1.0, 10.0, 'the clock running again')
