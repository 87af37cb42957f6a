"""Node ``drive_controller``: body-twist commands -> wheel and steering commands, wheel odometry."""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import TransformStamped, Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.time import Time
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param, watch_params
from rover_stack.common.qos import command_qos, latched_qos, sensor_qos
from rover_stack.common.stamps import stamp_seconds
from rover_stack.description.geometry import load_robot_geometry
from rover_stack.drive.controller_core import (
    REJECT_ESTOP,
    ControllerConfig,
    ControllerStatus,
    DriveControllerCore,
    JointFeedback,
    parse_joint_feedback,
)
from rover_stack.drive.kinematics import WheelCommand
from rover_stack.drive.limits import AxisLimits
from rover_stack.drive.odometry import WheelOdometry
from tf2_msgs.msg import TFMessage

NODE_NAME = 'drive_controller'
DEFAULT_ROBOT = 'skid4'
#: Largest gap (s) between two velocity-only feedback samples that is still integrated.
MAX_FEEDBACK_GAP = 0.5
ESTOP_SOURCES = {'estop': 'software', 'hardware_estop': 'hardware'}


@dataclass
class DriveParams:
    robot_config: str = param(
        DEFAULT_ROBOT, 'Robot geometry: a variant name (skid4, skid6, corner6) from the package '
        'config/robot, or a path to a robot yaml', read_only=True)
    rate: float = param(50.0, 'Timer rate: ramps, timeouts, wheel-command heartbeat (a command applies on '
                        'arrival)', unit='Hz', low=1.0, high=1000.0, read_only=True)
    cmd_timeout: float = param(0.5, 'No valid command for this long ramps the output to zero', unit='s',
                               low=0.02, high=5.0, read_only=True)
    max_stamp_age: float = param(1.0, 'Reject commands whose header stamp is older than this, and let an '
                                 'accepted one expire at this age; 0 = no stamp checks (unsynced clocks)',
                                 unit='s', low=0.0, high=10.0, read_only=True)
    max_stamp_future: float = param(0.5, 'Reject commands stamped further ahead of now than this (with '
                                    'max_stamp_age > 0)', unit='s', low=0.0, high=10.0, read_only=True)
    hardware_estop_timeout: float = param(3.0, 'hardware_estop silent (or never heard) for this long counts '
                                          'as pressed', unit='s', low=0.1, high=60.0, read_only=True)
    # the speed and acceleration limits are tuned in the field: writable (ros2 param set)
    linear_max_velocity: float = param(1.0, 'Top forward/backward speed (at most reject_linear_above)',
                                       unit='m/s', low=0.01, high=10.0)
    linear_max_acceleration: float = param(1.0, 'Linear acceleration limit', unit='m/s^2', low=0.01,
                                           high=100.0)
    linear_max_deceleration: float = param(2.0, 'Linear deceleration limit (also for timeouts)',
                                           unit='m/s^2', low=0.01, high=100.0)
    angular_max_velocity: float = param(1.5, 'Top yaw rate (at most reject_angular_above)', unit='rad/s',
                                        low=0.01, high=20.0)
    angular_max_acceleration: float = param(3.0, 'Yaw acceleration limit', unit='rad/s^2', low=0.01,
                                            high=200.0)
    angular_max_deceleration: float = param(4.0, 'Yaw deceleration limit', unit='rad/s^2', low=0.01,
                                            high=200.0)
    reject_linear_above: float = param(2.0, 'Commands with |v| above this are rejected (not clamped)',
                                       unit='m/s', low=0.01, high=20.0, read_only=True)
    reject_angular_above: float = param(3.0, 'Commands with |w| above this are rejected (not clamped)',
                                        unit='rad/s', low=0.01, high=40.0, read_only=True)
    accept_unstamped_twist: bool = param(False, 'Also take geometry_msgs/Twist on cmd_vel_unstamped',
                                         read_only=True)
    wait_for_steering: bool = param(True, 'Corner steer: wheels slow to zero while steering is off target',
                                    read_only=True)
    steering_tolerance: float = param(0.1, 'Steering error above which the wheels wait', unit='rad',
                                      low=0.001, high=1.0, read_only=True)
    feedback_timeout: float = param(0.5, 'Joint feedback older than this is stale', unit='s', low=0.01,
                                    high=10.0, read_only=True)
    publish_odom_tf: bool = param(False, 'Broadcast odom -> base_link on tf (off when an EKF does it)',
                                  read_only=True)
    odom_frame: str = param('odom', 'Frame of the odometry pose', read_only=True)
    base_frame: str = param('base_link', 'Child frame of the odometry', read_only=True)
    command_frames: list = param(['base_link', 'base_footprint'],  # noqa: RUF009
                                 'Body frames cmd_vel may be stamped in (they differ by a translation only: '
                                 'one planar twist); base_frame is always accepted', read_only=True)
    pose_covariance_diagonal: tuple = param(
        (0.001, 0.001, 1.0e6, 1.0e6, 1.0e6, 0.03),
        'Odometry pose covariance diagonal x, y, z, roll, pitch, yaw (1e6: not measured)',
        unit='m^2, rad^2', read_only=True)
    twist_covariance_diagonal: tuple = param(
        (0.002, 1.0e6, 1.0e6, 1.0e6, 1.0e6, 0.02),
        'Odometry twist covariance diagonal vx, vy, vz, wx, wy, wz (1e6: not measured)',
        unit='(m/s)^2, (rad/s)^2', read_only=True)
    diagnostics_period: float = param(1.0, 'Period of the diagnostics message', unit='s', low=0.1,
                                      high=60.0, read_only=True)


def _covariance(values, what: str) -> list[float]:
    values = [float(x) for x in values]
    if len(values) != 6 or not all(math.isfinite(x) and x >= 0.0 for x in values):
        raise ValueError(f'{NODE_NAME}: {what} needs 6 finite non-negative numbers, got {values}')
    matrix = [0.0] * 36
    for i, x in enumerate(values):
        matrix[7 * i] = x
    return matrix


def controller_config(p: DriveParams) -> ControllerConfig:
    return ControllerConfig(
        linear=AxisLimits(p.linear_max_velocity, p.linear_max_acceleration, p.linear_max_deceleration),
        angular=AxisLimits(p.angular_max_velocity, p.angular_max_acceleration, p.angular_max_deceleration),
        reject_linear_above=p.reject_linear_above, reject_angular_above=p.reject_angular_above,
        cmd_timeout=p.cmd_timeout, max_stamp_age=p.max_stamp_age, max_stamp_future=p.max_stamp_future,
        silent_estop_timeouts=(('hardware_estop', p.hardware_estop_timeout),),
        command_frames=tuple(dict.fromkeys([p.base_frame, *p.command_frames])),
        wait_for_steering=p.wait_for_steering,
        steering_tolerance=p.steering_tolerance, feedback_timeout=p.feedback_timeout)


class DriveControllerNode(Node):
    """Turns the arbitrated body twist into wheel speeds (and corner steering angles) for the hardware.

    Subscribes:
      * ``cmd_vel`` (geometry_msgs/TwistStamped, reliable): linear.x m/s, angular.z rad/s in base_link
        (a frame_id other than '', ``base_frame`` or one of ``command_frames`` is rejected).
      * ``cmd_vel_unstamped`` (geometry_msgs/Twist): only with ``accept_unstamped_twist``.
      * ``estop``, ``hardware_estop`` (std_msgs/Bool, true = stop): latched (transient local) plus a
        best-effort volatile subscription, so any publisher QoS matches. True latches the e-stop;
        ``hardware_estop`` silent for ``hardware_estop_timeout`` s (or never heard) counts as true.
      * ``joint_states`` (sensor_msgs/JointState, sensor QoS): wheel velocity or position feedback and
        steering positions, for odometry and for ``wait_for_steering``.
    Publishes:
      * ``wheel_commands`` (sensor_msgs/JointState, reliable): name + velocity (rad/s) per wheel joint.
      * ``steering_commands`` (sensor_msgs/JointState, reliable): name + position (rad); corner only.
      * ``odom`` (nav_msgs/Odometry): pose in ``odom_frame``, twist in ``base_frame``, from the
        joint FEEDBACK (never from the commands), covariance diagonals from the parameters.
      * ``tf`` (tf2_msgs/TFMessage): odom -> base_link, only with ``publish_odom_tf``.
      * ``estop_state`` (std_msgs/Bool, latched): true while the e-stop is latched.
      * ``diagnostics`` (diagnostic_msgs/DiagnosticArray, every ``diagnostics_period`` s).
    Services:
      * ``reset_estop`` (std_srvs/Trigger): clears the latch; refused (success false, message says
        why) while any e-stop source is still true. The node STARTS LATCHED: nothing moves the rover
        after a (re)start before this call (docs/safety.md).
    Parameters: see ``DriveParams`` (limits in m/s, m/s^2, rad/s, rad/s^2; times in s). The six speed and
    acceleration limits may be changed at run time (``ros2 param set``), within their ranges and below the
    reject thresholds; the others are read-only.
    Event-driven: an accepted command (and an e-stop going active) steps the core and publishes at once;
    a timer at ``rate`` Hz steps it too (ramps, timeouts, the wheel-command heartbeat) unless a step ran
    less than half a period before. The core's limits use the time between steps (at most 0.1 s). Zero
    wheel speeds are published on e-stop, on command timeout (after a ramp) and on shutdown.
    """

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_params(self, DriveParams)
        self._pose_cov = _covariance(p.pose_covariance_diagonal, 'pose_covariance_diagonal')
        self._twist_cov = _covariance(p.twist_covariance_diagonal, 'twist_covariance_diagonal')
        try:
            self.geometry = load_robot_geometry(p.robot_config)
        except ValueError as error:
            raise ValueError(f'{NODE_NAME}: {error}') from None
        self.core = DriveControllerCore(self.geometry, controller_config(p))
        watch_params(self, DriveParams, lambda new: self.core.reconfigure(controller_config(new)))
        self.odometry = WheelOdometry(self.core.kinematics)
        self._feedback: deque[tuple[JointFeedback, float, float]] = deque(maxlen=100)
        self._last_velocity_stamp: float | None = None
        self._steering_feedback: dict[str, float] = {}
        self._closed = False

        self._wheel_pub = self.create_publisher(JointState, 'wheel_commands', command_qos())
        self._steer_pub = (self.create_publisher(JointState, 'steering_commands', command_qos())
                           if self.geometry.steering_joints else None)
        self._odom_pub = self.create_publisher(Odometry, 'odom', command_qos())
        self._tf_pub = self.create_publisher(TFMessage, 'tf', command_qos(100)) if p.publish_odom_tf else None
        self._estop_pub = self.create_publisher(Bool, 'estop_state', latched_qos())
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', command_qos())

        self.create_subscription(TwistStamped, 'cmd_vel', self._on_cmd_stamped, command_qos())
        if p.accept_unstamped_twist:
            self.create_subscription(Twist, 'cmd_vel_unstamped', self._on_cmd_unstamped, command_qos())
        for topic in ESTOP_SOURCES:
            def on_estop(msg, source=topic):
                self.core.set_estop(source, msg.data, self._now())
                if msg.data:
                    self._step()             # the zero goes out now, not at the next tick
            for qos in (latched_qos(), sensor_qos(depth=10)):
                self.create_subscription(Bool, topic, on_estop, qos)
        self.create_subscription(JointState, 'joint_states', self._on_joint_states, sensor_qos(depth=20))
        self.create_service(Trigger, 'reset_estop', self._on_reset_estop)

        self._published_latch: bool | None = None
        self._stepped_at: float | None = None      # s (node clock) of the last step
        self._timer = self.create_timer(1.0 / p.rate, self._on_timer)
        self.create_timer(p.diagnostics_period, self._publish_diagnostics)
        self.get_logger().info(
            f"robot '{self.geometry.name}' ({self.geometry.kinematics}, {len(self.geometry.wheels)} wheels) "
            f'from {p.robot_config}; {p.rate:g} Hz, timeout {p.cmd_timeout:g} s; '
            'e-stop latched until reset_estop')

    # ---- callbacks: store only ------------------------------------------------------------------
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_cmd_stamped(self, msg: TwistStamped) -> None:
        stamp = stamp_seconds(msg.header.stamp)
        self._take(msg.twist.linear.x, msg.twist.angular.z, stamp if stamp > 0.0 else None,
                   msg.header.frame_id)

    def _on_cmd_unstamped(self, msg: Twist) -> None:
        self._take(msg.linear.x, msg.angular.z, None)

    def _take(self, v: float, w: float, stamp: float | None, frame_id: str = '') -> None:
        reason = self.core.command(v, w, self._now(), stamp, frame_id)
        if reason is None:
            self._step()                     # event-driven: the wheels get the command on its arrival
        elif reason != REJECT_ESTOP:    # latched: expected, counted in diagnostics
            self.get_logger().warning(f'rejected command v={v} w={w}: {reason}', throttle_duration_sec=2.0)

    def _on_joint_states(self, msg: JointState) -> None:
        parsed = parse_joint_feedback(msg.name, msg.position, msg.velocity, self.geometry.wheel_joints,
                                      self.geometry.steering_joints)
        if isinstance(parsed, str):
            self.get_logger().warning(f'ignoring joint_states: {parsed}', throttle_duration_sec=5.0)
            return
        now = self._now()
        stamp = stamp_seconds(msg.header.stamp)
        self._feedback.append((parsed, stamp if stamp > 0.0 else now, now))

    def _on_reset_estop(self, _request, response):
        response.success, response.message = self.core.reset_estop(self._now())
        if response.success:
            self.get_logger().info(f'reset_estop: {response.message}')
        else:
            self.get_logger().warning(f'reset_estop refused: {response.message}')
        return response

    # ---- step, then publish: on a command's arrival and on the timer -----------------------------
    def _on_timer(self) -> None:
        """Ramps, timeouts and the heartbeat of the wheel commands; skipped right after an event-driven
        step (less than half a period ago)."""
        if self._stepped_at is not None and 0.0 <= self._now() - self._stepped_at < 0.5 / self.params.rate:
            return
        self._step()

    def _step(self) -> None:
        now = self._now()
        self._stepped_at = now
        self._integrate_feedback()
        self._publish_command(self.core.step(now))
        latched = self.core.estop_latched
        if latched != self._published_latch:
            self._estop_pub.publish(Bool(data=latched))
            if latched:
                active = ', '.join(self.core.active_estop_sources(now)) or 'none now'
                self.get_logger().error(f'E-STOP latched by {self.core.latch_reason} (active: {active})')
            self._published_latch = latched

    def _integrate_feedback(self) -> None:
        updated = None
        while self._feedback:
            fb, stamp, received = self._feedback.popleft()
            self._steering_feedback.update(fb.steering_angles)
            if not fb.has_wheels:
                self.core.feedback(received, fb.steering_angles, wheels=False)
                continue
            self.core.feedback(received, fb.steering_angles)
            angles = dict(self._steering_feedback)   # latest known, also from steering-only messages
            try:
                if fb.wheel_positions is not None:
                    advanced = self.odometry.update_from_positions(fb.wheel_positions, angles, stamp)
                else:
                    previous, self._last_velocity_stamp = self._last_velocity_stamp, stamp
                    if previous is None or not 0.0 < stamp - previous <= MAX_FEEDBACK_GAP:
                        continue
                    advanced = self.odometry.update_from_velocities(
                        fb.wheel_velocities, angles, stamp - previous)
            except ValueError as error:
                self.get_logger().warning(f'odometry skipped a sample: {error}', throttle_duration_sec=5.0)
                continue
            if advanced:
                updated = stamp
        if updated is not None:
            self._publish_odometry(updated)

    def _publish_command(self, cmd: WheelCommand) -> None:
        stamp = self.get_clock().now().to_msg()
        wheels = JointState(name=list(cmd.wheel_velocities), velocity=list(cmd.wheel_velocities.values()))
        wheels.header.stamp = stamp
        self._wheel_pub.publish(wheels)
        if self._steer_pub is not None:
            steer = JointState(name=list(cmd.steering_angles), position=list(cmd.steering_angles.values()))
            steer.header.stamp = stamp
            self._steer_pub.publish(steer)

    def _publish_odometry(self, stamp_s: float) -> None:
        odo, p = self.odometry, self.params
        msg = Odometry()
        msg.header.stamp = Time(nanoseconds=round(stamp_s * 1e9)).to_msg()
        msg.header.frame_id, msg.child_frame_id = p.odom_frame, p.base_frame
        msg.pose.pose.position.x, msg.pose.pose.position.y = float(odo.x), float(odo.y)
        msg.pose.pose.orientation.z = math.sin(odo.yaw / 2.0)
        msg.pose.pose.orientation.w = math.cos(odo.yaw / 2.0)
        msg.pose.covariance = self._pose_cov
        msg.twist.twist.linear.x, msg.twist.twist.angular.z = float(odo.v), float(odo.w)
        msg.twist.covariance = self._twist_cov
        self._odom_pub.publish(msg)
        if self._tf_pub is not None:
            t = TransformStamped(header=msg.header, child_frame_id=p.base_frame)
            t.transform.translation.x, t.transform.translation.y = float(odo.x), float(odo.y)
            t.transform.rotation = msg.pose.pose.orientation
            self._tf_pub.publish(TFMessage(transforms=[t]))

    def _publish_diagnostics(self) -> None:
        status = self.core.status(self._now())
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        array.status = [diagnostic_status(status, self.params.feedback_timeout, self.get_name(),
                                          self.geometry.name)]
        self._diag_pub.publish(array)

    # ---- shutdown -------------------------------------------------------------------------------
    def publish_zero(self) -> None:
        """Command zero wheel speeds (steering held), if the context still allows publishing, and wait
        (at most 0.5 s) until the motor side has it: the node is going away."""
        if self._closed or not self.context.ok():
            return
        self._publish_command(self.core.zero_command())
        self._wheel_pub.wait_for_all_acked(Duration(seconds=0.5))

    def destroy_node(self):
        self.publish_zero()
        self._closed = True
        return super().destroy_node()


def diagnostic_status(status: ControllerStatus, feedback_timeout: float, name: str,
                      hardware_id: str) -> DiagnosticStatus:
    """One DiagnosticStatus: ERROR while e-stopped, WARN on stale feedback, else OK."""
    if status.estop_latched:
        level, message = DiagnosticStatus.ERROR, 'e-stop latched'
    elif status.feedback_age is None or status.feedback_age > feedback_timeout:
        level, message = DiagnosticStatus.WARN, 'no fresh wheel feedback'
    elif status.saturation_factor < 1.0:
        level, message = DiagnosticStatus.OK, 'driving (wheel speed saturated)'
    else:
        level, message = DiagnosticStatus.OK, 'driving' if status.command_fresh else 'idle'

    def age(x):
        return 'never' if x is None else f'{x:.3f}'

    values = {
        'estop_latched': str(status.estop_latched),
        'estop_active_sources': ','.join(status.estop_active_sources),
        'command_fresh': str(status.command_fresh),
        'command_age_s': age(status.command_age),
        'timeouts': str(status.timeouts),
        'accepted_commands': str(status.accepted),
        'rejected_commands': str(sum(status.rejected.values())),
        'feedback_age_s': age(status.feedback_age),
        'v_mps': f'{status.v:.3f}',
        'w_radps': f'{status.w:.3f}',
        'saturation_factor': f'{status.saturation_factor:.3f}',
        'waiting_for_steering': str(status.waiting_for_steering),
    }
    values.update({f'rejected_{reason}': str(n) for reason, n in sorted(status.rejected.items())})
    return DiagnosticStatus(level=level, name=f'{name}: drive', message=message, hardware_id=hardware_id,
                            values=[KeyValue(key=k, value=v) for k, v in values.items()])


def main(args=None) -> int:
    # No rclpy signal handler: Ctrl-C/SIGTERM raise KeyboardInterrupt with the context still valid,
    # so the node can publish zero wheel speeds before it goes away.
    return run_node(DriveControllerNode, NODE_NAME, args, graceful_signals=True)


if __name__ == '__main__':
    raise SystemExit(main())
