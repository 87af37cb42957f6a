"""Localization acceptance scenario in the embedded simulator, shared by
tests/node/test_localization_sim.py and bench/localization_accuracy.py.

The real nodes run in one process on one executor: ``rover_simulator`` (lockstep: it advances one
control period per wheel command, so physics, sensors and controller stay in step however slow the
machine is; camera off, scan at its lowest rate), ``drive_controller`` and ``ekf_localization``, all on
sim time with their shipped config files. The executor is rclpy's EventsExecutor: the nodes' own
callbacks, ~5x less executor overhead than ``rclpy.spin``, which is what makes minutes of sim time
affordable in a test. A probe node drives a square loop to the right of the course start
(``LoopFollower``, steering on the ground truth: the harness needs a repeatable path, the stack never
sees the truth) by publishing TwistStamped on the controller's ``cmd_vel`` (arbitration skipped), and
records ``sim/ground_truth``, ``odometry/filtered``, the raw ``gnss/fix`` (as antenna east/north with
the course datum) and the EKF's diagnostics. Timeline (sim s): stand still for ``still`` (the
zero-velocity updates pin the gyro bias), then loop until ``duration``; an optional forced multipath
jump and an optional forced GNSS outage (simulator parameters ``gnss.forced_*``).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.experimental import EventsExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import NavSatFix, NavSatStatus
from std_msgs.msg import String

from rover_stack.common.angles import wrap_angle
from rover_stack.common.qos import command_qos, sensor_qos
from rover_stack.common.share_files import config_dir
from rover_stack.common.stamps import stamp_seconds
from rover_stack.drive.drive_controller_node import DriveControllerNode
from rover_stack.drive.estop_reset import reset_estop
from rover_stack.localization import accuracy as acc
from rover_stack.localization.ekf_localization_node import EkfLocalizationNode
from rover_stack.sim.course import find_course, load_course
from rover_stack.sim.rover_simulator_node import RoverSimulatorNode
from rover_stack.tf.transform import yaw_from_quaternion

DRIVER_RATE = 10.0      # Hz sim, probe commands
# The acceptance run (issue #5; tests/node/test_localization_sim.py, bench/localization_accuracy.py):
MULTIPATH = (150.0, 5.0, 20.0, 0.0)     # start s, duration s, east m, north m: every fix shifted
DROPOUT = (165.0, 60.0)                 # start s, duration s: no fix at all
SETTLED = (50.0, MULTIPATH[0])          # s: accuracy window, from 40 s of driving on up to the jump


@dataclass(frozen=True)
class Scenario:
    """One run. Times in s of sim time, distances in m, speeds in m/s."""
    seed: int = 1
    course: str = 'urc_demo'
    robot_config: str = 'skid4'
    duration: float = 150.0
    still: float = 10.0
    speed: float = 0.8
    loop_side: float = 30.0          # square loop, turning right, first side along the start heading
    use_imu_yaw: bool = False        # the stack default (no magnetometer); the sim profile sets true
    dropout: tuple[float, float] | None = None                      # (start, duration)
    multipath: tuple[float, float, float, float] | None = None      # (start, duration, east m, north m)


@dataclass
class Recording:
    """What a run produced: arrays with rows ``t, x, y, yaw`` (truth, estimate; map frame) and
    ``t, east, north`` (fixes: antenna, map frame); the GNSS lever arm (x, y in base_link); the EKF
    diagnostics values per message ``(t, {key: value})``; collision messages; sim and wall seconds."""
    scenario: Scenario
    truth: np.ndarray
    estimate: np.ndarray
    fixes: np.ndarray
    lever_arm: tuple[float, float]
    diagnostics: list = field(default_factory=list)
    collisions: list = field(default_factory=list)
    sim_time: float = 0.0
    wall_time: float = 0.0

    def diagnostic_value(self, key: str, at: float) -> int:
        """The integer diagnostics value ``key`` in the last message stamped at or before ``at`` s."""
        value = 0
        for stamp, values in self.diagnostics:
            if stamp > at:
                break
            value = int(values.get(key, 0))
        return value


def acceptance_scenario(seed: int = 1, use_imu_yaw: bool = False) -> Scenario:
    """228 s: stand 10 s, loop; multipath jump at 150 s, 60 s outage from 165 s, 3 s after it."""
    return Scenario(seed=seed, duration=DROPOUT[0] + DROPOUT[1] + 3.0, use_imu_yaw=use_imu_yaw,
                    multipath=MULTIPATH, dropout=DROPOUT)


def acceptance_figures(run: Recording) -> dict[str, float]:
    """The acceptance figures of a run of ``acceptance_scenario`` (definitions: accuracy.py and the
    test's docstrings): RMSEs over ``SETTLED``, the error when fixes return after the outage, the
    multipath shift of the error vector, jumped fixes gated, path length (m)."""
    result = acc.accuracy(run.estimate, run.truth, run.fixes, run.lever_arm, SETTLED)
    start, duration = MULTIPATH[:2]
    gated = (run.diagnostic_value('gnss_rejected_gate', start + duration + 2.0)
             - run.diagnostic_value('gnss_rejected_gate', start - 1.0))
    return {
        'position_rmse_m': result.position_rmse,
        'heading_rmse_deg': result.heading_rmse_deg,
        'gnss_rmse_m': result.gnss_rmse,
        'gnss_rmse_per_axis_m': result.gnss_rmse_per_axis,
        'dropout_end_error_m': acc.error_when_fixes_return(run.estimate, run.truth, run.fixes,
                                                           DROPOUT[0] + DROPOUT[1])[0],
        'multipath_shift_m': acc.error_shift(run.estimate, run.truth, start, start + duration),
        'multipath_gated': float(gated),
        'path_m': float(np.sum(np.hypot(np.diff(run.truth[:, 1]), np.diff(run.truth[:, 2])))),
    }


def square_loop(x: float, y: float, yaw: float, side: float) -> list[tuple[float, float]]:
    """Corners of a square loop from (x, y): first side along ``yaw``, then right turns; ends at the start."""
    corners, heading = [], yaw
    for _ in range(4):
        x, y = x + side * math.cos(heading), y + side * math.sin(heading)
        corners.append((x, y))
        heading -= math.pi / 2.0
    return corners


class LoopFollower:
    """Steers through ``corners`` forever: turn toward the next corner (slowing, on the spot when far
    off), drive at ``speed`` when aligned; a corner within ``reach`` m is passed. Pure: pose in, twist out."""

    def __init__(self, corners, speed: float, *, max_yaw_rate: float = 0.6, reach: float = 2.0,
                 gain: float = 1.5, align: float = 0.6):
        self.corners, self.speed = list(corners), speed
        self.max_yaw_rate, self.reach, self.gain, self.align = max_yaw_rate, reach, gain, align
        self.index = 0

    def command(self, x: float, y: float, yaw: float) -> tuple[float, float]:
        """(v m/s, w rad/s) for base_link at (x, y, yaw) in the map frame."""
        tx, ty = self.corners[self.index]
        if math.hypot(tx - x, ty - y) < self.reach:
            self.index = (self.index + 1) % len(self.corners)
            tx, ty = self.corners[self.index]
        error = wrap_angle(math.atan2(ty - y, tx - x) - yaw)
        w = max(-self.max_yaw_rate, min(self.max_yaw_rate, self.gain * error))
        v = self.speed * max(0.0, 1.0 - abs(error) / self.align)
        return v, w


def _stamp(msg) -> float:
    return stamp_seconds(msg.header.stamp)


def _yaw(q) -> float:
    return yaw_from_quaternion(q.x, q.y, q.z, q.w)


def _sim_overrides(s: Scenario) -> list[Parameter]:
    values = {'course': s.course, 'robot_config': s.robot_config, 'seed': s.seed, 'lockstep': True,
              'lockstep_timeout': 0.5, 'control_period': 0.02, 'clock_period': 0.02,
              'ground_truth_rate': 25.0, 'camera.rate': 0.0, 'range.rate': 0.1}
    if s.dropout is not None:
        values.update({'gnss.forced_dropout_start': float(s.dropout[0]),
                       'gnss.forced_dropout_duration': float(s.dropout[1])})
    if s.multipath is not None:
        start, duration, east, north = (float(v) for v in s.multipath)
        values.update({'gnss.forced_multipath_start': start, 'gnss.forced_multipath_duration': duration,
                       'gnss.forced_multipath_east': east, 'gnss.forced_multipath_north': north})
    return [Parameter(k, value=v) for k, v in values.items()]


class _Probe:
    """The harness node: drives the loop on the ground truth and records what the run produced."""

    def __init__(self, context, scenario: Scenario, corners, plane):
        self.node = rclpy.create_node('localization_probe', context=context, start_parameter_services=False,
                                      parameter_overrides=[Parameter('use_sim_time', value=True)])
        self.scenario, self.plane = scenario, plane
        self.follower = LoopFollower(corners, scenario.speed)
        self.truth, self.estimate, self.fixes, self.diagnostics, self.collisions = [], [], [], [], []
        self._cmd = self.node.create_publisher(TwistStamped, 'cmd_vel', command_qos())
        n = self.node
        n.create_subscription(Odometry, 'sim/ground_truth', self._on_truth, command_qos(100))
        n.create_subscription(Odometry, 'odometry/filtered', self._on_estimate, command_qos(100))
        n.create_subscription(NavSatFix, 'gnss/fix', self._on_fix, sensor_qos(50))
        n.create_subscription(DiagnosticArray, 'diagnostics', self._on_diagnostics, command_qos())
        n.create_subscription(String, 'sim/collisions', lambda m: self.collisions.append(m.data),
                              command_qos())
        n.create_timer(1.0 / DRIVER_RATE, self._drive)

    def sim_time(self) -> float:
        return self.node.get_clock().now().nanoseconds * 1e-9

    def _on_truth(self, msg: Odometry) -> None:
        p = msg.pose.pose
        self.truth.append((_stamp(msg), p.position.x, p.position.y, _yaw(p.orientation)))

    def _on_estimate(self, msg: Odometry) -> None:
        p = msg.pose.pose
        self.estimate.append((_stamp(msg), p.position.x, p.position.y, _yaw(p.orientation)))

    def _on_fix(self, msg: NavSatFix) -> None:
        if msg.status.status >= NavSatStatus.STATUS_FIX and math.isfinite(msg.latitude):
            east, north, _ = self.plane.to_enu(msg.latitude, msg.longitude, msg.altitude)
            self.fixes.append((_stamp(msg), east, north))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.endswith(': localization'):
                self.diagnostics.append((_stamp(msg), {kv.key: kv.value for kv in status.values}))

    def _drive(self) -> None:
        v = w = 0.0
        if self.truth and self.sim_time() >= self.scenario.still:
            _, x, y, yaw = self.truth[-1]
            v, w = self.follower.command(x, y, yaw)
        msg = TwistStamped()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.header.frame_id = 'base_link'
        msg.twist.linear.x, msg.twist.angular.z = v, w
        self._cmd.publish(msg)


def run_scenario(scenario: Scenario, context, timeout: float) -> Recording:
    """Run ``scenario`` on an initialised rclpy ``context``; AssertionError if the sim does not reach
    ``scenario.duration`` within ``timeout`` s of wall time. Every node is destroyed before returning."""
    course = load_course(scenario.course)
    config = config_dir()
    common = {'context': context, 'start_parameter_services': False}
    sim_time = Parameter('use_sim_time', value=True)
    robot = Parameter('robot_config', value=scenario.robot_config)
    nodes, executor = [], EventsExecutor(context=context)
    started = time.monotonic()
    try:
        nodes.append(RoverSimulatorNode(**common, cli_args=['--ros-args', '--params-file',
                                                       str(config / 'simulator.yaml')],
                                   parameter_overrides=_sim_overrides(scenario)))
        lever_arm = tuple(nodes[0].sim.geometry.sensors['gnss'].xyz[:2])
        nodes.append(DriveControllerNode(**common, cli_args=['--ros-args', '--params-file',
                                                         str(config / 'drive.yaml')],
                                     parameter_overrides=[sim_time, robot]))
        nodes.append(EkfLocalizationNode(**common, cli_args=['--ros-args', '--params-file',
                                                         str(config / 'localization.yaml')],
                                     parameter_overrides=[
                                         sim_time, robot, Parameter('datum_source', value='file'),
                                         Parameter('course_file', value=str(find_course(scenario.course))),
                                         Parameter('use_imu_yaw', value=scenario.use_imu_yaw)]))
        corners = square_loop(course.start_x, course.start_y, course.start_yaw, scenario.loop_side)
        probe = _Probe(context, scenario, corners, course.datum.plane())
        nodes.append(probe.node)
        for node in nodes:
            executor.add_node(node)
        deadline = started + timeout
        # A started drive controller is latched: the harness resets it as the operator would
        reset_estop(probe.node, executor, timeout=timeout)
        while probe.sim_time() < scenario.duration:
            if time.monotonic() > deadline:
                raise AssertionError(f'simulation reached {probe.sim_time():.1f} of '
                                     f'{scenario.duration:.0f} s sim time within {timeout:.0f} s')
            executor.spin_once(timeout_sec=0.05)
        return Recording(scenario=scenario, truth=np.array(probe.truth), estimate=np.array(probe.estimate),
                         fixes=np.array(probe.fixes), lever_arm=lever_arm, diagnostics=probe.diagnostics,
                         collisions=probe.collisions, sim_time=probe.sim_time(),
                         wall_time=time.monotonic() - started)
    finally:
        executor.shutdown()
        for node in reversed(nodes):
            node.destroy_node()
