"""rover_simulator as a separate process: it passes the hardware-interface contract check, and a square
driven through drive_controller (cmd_vel) returns to its start; wheel odometry drift is measured.

Tolerances (docs/simulator.md, "Tolerances"): the square (3 m sides, headings held on the ground truth
as an IMU/compass would, distances from the drive controller's odometry) closes within 0.5 m; the
odometry's path length is within 5 % of the true one; the odometry's own square misses its start by a
measurable amount (turn slip) that stays under 6 m.
"""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys

import pytest
import rclpy
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from rosgraph_msgs.msg import Clock

from rover_stack.common.qos import command_qos, sensor_qos
from rover_stack.common.share_files import package_share_dir, robot_config_path
from rover_stack.contract.checker import check_backend
from rover_stack.contract.model import load_contract
from rover_stack.description.geometry import load_geometry
from rover_stack.drive.estop_reset import reset_estop
from rover_stack.testing.waiting import spin_until

SIDE = 3.0            # m
SPEED = 0.5           # m/s
CLOSE_TOLERANCE = 0.5  # m, end of the square to its start
PATH_TOLERANCE = 0.05  # fraction, odometry path length vs true path length
ODOM_CLOSE_BOUND = 6.0  # m: the odometry's own square may not close (skid turns slip), but within this


class NodeProcess:
    """``python -m MODULE --ros-args ...`` in its own process group; SIGINT on close, SIGKILL if stuck."""

    def __init__(self, module: str, params: dict, log_path, params_file=None):
        args = [sys.executable, '-m', module, '--ros-args']
        if params_file:
            args += ['--params-file', str(params_file)]
        for key, value in params.items():
            args += ['-p', f'{key}:={value}']
        self.log = open(log_path, 'w')
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
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
def processes(tmp_path):
    started: list[NodeProcess] = []

    def start(module, params, name, params_file=None):
        proc = NodeProcess(module, params, tmp_path / f'{name}.log', params_file)
        started.append(proc)
        return proc

    yield start
    for proc in reversed(started):
        proc.close()


@pytest.fixture
def context():
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    nodes = []
    ctx.test_nodes = nodes
    yield ctx
    for node in nodes:
        node.destroy_node()
    ctx.try_shutdown()


def wait_for_clock(ctx, executor, until: float, timeout: float) -> None:
    node = rclpy.create_node('clock_probe', context=ctx)
    ctx.test_nodes.append(node)
    latest = [0.0]
    node.create_subscription(Clock, '/clock', lambda m: latest.__setitem__(0, m.clock.sec + m.clock.nanosec * 1e-9),
                             sensor_qos(10))
    executor.add_node(node)
    spin_until(executor, lambda: latest[0] >= until, timeout, f'/clock to reach {until} s')
    executor.remove_node(node)


@pytest.mark.parametrize('robot', ['skid4', 'corner6'])
def test_simulator_passes_the_hardware_contract(context, processes, robot):
    simulator_yaml = package_share_dir() / 'config' / 'simulator.yaml'
    processes('rover_stack.sim.rover_simulator_node', {'robot_config': robot}, f'sim_{robot}', simulator_yaml)
    executor = SingleThreadedExecutor(context=context)
    try:
        wait_for_clock(context, executor, 1.0, 30.0)     # past start-up (first frame, discovery)
        # 4 s: the 1 Hz topics (battery, the latched hardware_estop) give 4-5 messages, so one arriving late
        # cannot halve their measured rate (a clean-clone run saw 2 messages, 0.5 Hz, in a 2 s window)
        report = check_backend(context, load_contract(), 4.0, geometry=load_geometry(robot_config_path(robot)),
                               executor=executor)
    finally:
        executor.shutdown(timeout_sec=1.0)
    assert report.ok, f'\n{report}'
    assert set(report.topics) == {'joint_states', 'imu/data', 'gnss/fix', 'camera/image_raw',
                                  'camera/camera_info', 'scan', 'battery', 'hardware_estop'}


def _yaw(q) -> float:
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def _wrap(angle: float) -> float:
    return math.atan2(math.sin(angle), math.cos(angle))


class SquareDriver:
    """Drives the square: heading held on the ground truth, distance counted on the wheel odometry."""

    def __init__(self, ctx):
        self.node = rclpy.create_node('square_driver', context=ctx)
        ctx.test_nodes.append(self.node)
        self.cmd = self.node.create_publisher(TwistStamped, 'cmd_vel', command_qos())
        self.truth: Odometry | None = None
        self.odom: Odometry | None = None
        self.truth_path = 0.0
        self.odom_path = 0.0
        self.node.create_subscription(Odometry, 'sim/ground_truth', self._on_truth, command_qos())
        self.node.create_subscription(Odometry, 'odom', self._on_odom, command_qos())
        self.segment_odom = 0.0
        self.phase = 0               # even: drive a side, odd: turn left 90 deg
        self.heading = None
        self.start_truth = None
        self.start_odom = None
        self.done = False

    def _on_odom(self, msg: Odometry) -> None:
        if self.odom is not None:
            step = math.dist((msg.pose.pose.position.x, msg.pose.pose.position.y),
                             (self.odom.pose.pose.position.x, self.odom.pose.pose.position.y))
            self.odom_path += step
            self.segment_odom += step
        self.odom = msg

    def _on_truth(self, msg: Odometry) -> None:
        if self.truth is not None:
            self.truth_path += math.dist((msg.pose.pose.position.x, msg.pose.pose.position.y),
                                         (self.truth.pose.pose.position.x, self.truth.pose.pose.position.y))
        self.truth = msg
        if self.odom is None or self.done:
            return
        yaw = _yaw(msg.pose.pose.orientation)
        if self.heading is None:
            self.heading, self.start_truth, self.start_odom = yaw, msg.pose.pose, self.odom.pose.pose
            self.truth_path = self.odom_path = self.segment_odom = 0.0
        error = _wrap(self.heading - yaw)
        if self.phase % 2 == 0:                  # a side: hold the heading, stop after SIDE m of odometry
            v, w = SPEED, max(-0.5, min(0.5, 2.0 * error))
            if self.segment_odom >= SIDE:
                self.phase += 1
                self.heading = _wrap(self.heading + math.pi / 2)
                if self.phase == 7:              # four sides, three turns: back at the start corner
                    self.done = True
                    v = w = 0.0
        else:                                    # a corner: turn on the spot to the next heading
            v, w = 0.0, math.copysign(max(0.4, min(1.0, 2.0 * abs(error))), error)
            if abs(error) < 0.02:
                self.phase += 1
                self.segment_odom = 0.0
                v = w = 0.0
        out = TwistStamped()
        out.header.stamp = msg.header.stamp
        out.header.frame_id = 'base_link'
        out.twist.linear.x, out.twist.angular.z = float(v), float(w)
        self.cmd.publish(out)


def test_square_through_the_drive_controller_closes_and_odometry_drift_is_bounded(context, processes):
    share = package_share_dir()
    processes('rover_stack.sim.rover_simulator_node', {'robot_config': 'skid4', 'real_time_factor': 3.0, 'camera.rate': 0.0},
              'sim', share / 'config' / 'simulator.yaml')
    processes('rover_stack.drive.drive_controller_node', {'robot_config': 'skid4', 'use_sim_time': True},
              'drive_controller', share / 'config' / 'drive.yaml')
    executor = SingleThreadedExecutor(context=context)
    try:
        driver = SquareDriver(context)
        executor.add_node(driver.node)
        spin_until(executor, lambda: driver.heading is not None, 30.0, 'ground truth and odometry')
        reset_estop(driver.node, executor)     # a started drive controller is latched: the operator resets it
        spin_until(executor, lambda: driver.done, 60.0, 'the square to be driven')
        stop = driver.truth.header.stamp.sec + 1.5
        spin_until(executor, lambda: driver.truth.header.stamp.sec >= stop, 10.0, 'the rover to stop')
    finally:
        executor.shutdown(timeout_sec=1.0)
    start, end = driver.start_truth.position, driver.truth.pose.pose.position
    closure = math.hypot(end.x - start.x, end.y - start.y)
    assert closure < CLOSE_TOLERANCE, f'square ends {closure:.2f} m from its start'
    assert driver.truth_path == pytest.approx(4 * SIDE, rel=0.15)
    assert driver.odom_path == pytest.approx(driver.truth_path, rel=PATH_TOLERANCE), driver.odom_path
    # odometry drift vs truth: measurable (wheel slip in the turns) and finite
    odom_start, odom_end = driver.start_odom.position, driver.odom.pose.pose.position
    odom_closure = math.hypot(odom_end.x - odom_start.x, odom_end.y - odom_start.y)
    summary = (f'truth closure {closure:.3f} m, odometry closure {odom_closure:.3f} m, '
               f'path truth {driver.truth_path:.2f} m, odometry {driver.odom_path:.2f} m')
    assert 0.2 < odom_closure < ODOM_CLOSE_BOUND, summary
