"""launch_testing: field-tunable parameters changed with `ros2 param set` while the sim profile runs take
effect at once, as a team tuning its rover would see them (issue #22, docs/drive.md "Tuning live"):

* `/drive_controller linear_max_velocity` 1.0 -> 0.3 m/s: the measured wheel-odometry speed follows;
* `/drive_controller angular_max_velocity` 1.5 -> 0.4 rad/s: the measured yaw rate follows;
* `/rover_simulator real_time_factor` 1.0 -> 0.4: simulated time slows down against the wall clock;
* a read-only parameter (`/drive_controller rate`) and an out-of-rule value (a top speed above the
  controller's reject threshold) are refused with a clear message and change nothing.
"""
import shutil
import subprocess
import time
import unittest

import pytest

pytest.importorskip('launch_testing', reason='no launch_testing: no ROS 2 distro sourced and the tools '
                    'overlay is not built (make setup: scripts/build_tools.sh)')

import launch_testing.actions
import launch_testing.asserts
from geometry_msgs.msg import TwistStamped
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock

from launch import LaunchDescription
from rover_stack.common.qos import command_qos, sensor_qos
from rover_stack.common.share_files import package_share_dir
from rover_stack.drive.estop_reset import reset_estop
from rover_stack.testing.launch_probe import SimTimeProbeCase

START_TIMEOUT = 120.0   # s wall
SETTLE = 4.0            # s of simulated time driving before a speed is read (the ramps take < 1.5 s)
CLI_TIMEOUT = 60.0      # s wall for one `ros2 param ...` call


@pytest.mark.timeout(900)
@pytest.mark.launch_test
def generate_test_description():
    sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(package_share_dir() / 'launch' / 'sim.launch.py')),
        launch_arguments={'autonomy': 'false', 'web': 'false', 'camera_rate': '0.0'}.items())
    return LaunchDescription([sim, launch_testing.actions.ReadyToTest()])


def ros2_param(*args: str) -> str:
    ros2 = shutil.which('ros2')
    assert ros2 is not None, 'no ros2 command line'
    # --timeout: how long the command line waits to discover the node (1 s by default: short on a loaded machine)
    done = subprocess.run([ros2, 'param', *args, '--timeout', '30'], capture_output=True, text=True,
                          timeout=CLI_TIMEOUT)
    return done.stdout + done.stderr


class TestParamSet(SimTimeProbeCase):

    probe_name = 'param_set_probe'

    def setUp(self):
        super().setUp()
        self.odom: list[Odometry] = []
        self.clock_msgs: list[tuple[float, float]] = []     # (wall s, sim s)
        self.node.create_subscription(Odometry, 'odom', self.odom.append, command_qos())
        self.node.create_subscription(Clock, '/clock', lambda m: self.clock_msgs.append(
            (time.monotonic(), m.clock.sec + m.clock.nanosec * 1e-9)), sensor_qos(depth=10))
        self.cmd = self.node.create_publisher(TwistStamped, 'autonomy/cmd_vel', command_qos())

    def drive(self, v: float, w: float, duration: float = SETTLE) -> tuple[float, float]:
        """Command (v m/s, w rad/s) for ``duration`` s of simulated time; the mean measured (v, w) of the
        wheel odometry stamped in its last second."""
        clock = self.node.get_clock()
        begin = clock.now().nanoseconds * 1e-9
        first = len(self.odom)
        wall_deadline = time.monotonic() + 40 * duration
        while clock.now().nanoseconds * 1e-9 - begin < duration:
            self.assertLess(time.monotonic(), wall_deadline, 'simulated time hardly advances')
            msg = TwistStamped()
            msg.header.stamp = clock.now().to_msg()
            msg.header.frame_id = 'base_link'
            msg.twist.linear.x, msg.twist.angular.z = v, w
            self.cmd.publish(msg)
            self.executor.spin_once(timeout_sec=0.05)
        window_start = begin + duration - 1.0
        samples = [(o.twist.twist.linear.x, o.twist.twist.angular.z) for o in self.odom[first:]
                   if o.header.stamp.sec + o.header.stamp.nanosec * 1e-9 >= window_start]
        self.assertTrue(samples, f'no odometry stamped in the last second of the drive '
                                 f'({len(self.odom) - first} messages while driving)')
        return (sum(s[0] for s in samples) / len(samples), sum(s[1] for s in samples) / len(samples))

    def set_param(self, node: str, name: str, value: str) -> str:
        output = ros2_param('set', node, name, value)
        self.catch_up()
        return output

    def catch_up(self) -> None:
        """Take what queued while the command line ran (the probe's simulated clock included)."""
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.02)

    def sim_rate(self, wall_seconds: float) -> float:
        """Simulated seconds per wall second over the next ``wall_seconds``."""
        start = len(self.clock_msgs)
        end_time = time.monotonic() + wall_seconds
        while time.monotonic() < end_time:
            self.executor.spin_once(timeout_sec=0.05)
        window = self.clock_msgs[start:]
        self.assertGreater(len(window), 10, 'no /clock')
        return (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])

    def test_field_parameters_take_effect_and_read_only_ones_are_refused(self):
        self.spin_until(lambda: self.odom and self.cmd.get_subscription_count() > 0, START_TIMEOUT,
                        'odom and cmd_arbitration')
        # the operator's reset once the simulated clock runs (a controller whose clock starts after the
        # reset may latch again on the hardware e-stop's silence: it fails safe, the operator resets again)
        self.spin_until(lambda: self.node.get_clock().now().nanoseconds > 3e9, START_TIMEOUT, 'simulated time')
        reset_estop(self.node, self.executor, timeout=START_TIMEOUT)

        # 1. the top speed
        fast, _ = self.drive(1.0, 0.0)
        self.assertGreater(fast, 0.8, 'the rover does not reach 1 m/s with the default limit')
        output = self.set_param('/drive_controller', 'linear_max_velocity', '0.3')
        self.assertIn('Set parameter successful', output)
        slow, _ = self.drive(1.0, 0.0)
        self.assertLess(slow, 0.36, f'still {slow:.2f} m/s after linear_max_velocity 0.3')
        self.assertGreater(slow, 0.2)

        # 2. the top yaw rate
        _, turning = self.drive(0.0, 1.2)
        self.assertGreater(turning, 0.9)
        self.assertIn('Set parameter successful', self.set_param('/drive_controller', 'angular_max_velocity', '0.4'))
        _, slow_turn = self.drive(0.0, 1.2)
        self.assertLess(slow_turn, 0.5, f'still {slow_turn:.2f} rad/s after angular_max_velocity 0.4')
        self.drive(0.0, 0.0, 2.0)

        # 3. the simulator's real-time factor
        self.assertIn('Set parameter successful', self.set_param('/rover_simulator', 'real_time_factor', '0.4'))
        self.assertLess(self.sim_rate(6.0), 0.5)

        # refused: read-only, and against the controller's own rule; nothing changes
        refused = self.set_param('/drive_controller', 'rate', '10.0')
        self.assertIn('Setting parameter failed', refused)
        self.assertIn('read-only', refused)
        above_reject = self.set_param('/drive_controller', 'linear_max_velocity', '2.5')
        self.assertIn('Setting parameter failed', above_reject)
        self.assertIn('reject_linear_above', above_reject)
        out_of_range = self.set_param('/drive_controller', 'linear_max_acceleration', '-1.0')
        self.assertIn('Setting parameter failed', out_of_range)
        self.assertIn('0.3', ros2_param('get', '/drive_controller', 'linear_max_velocity'))
        self.assertIn('50.0', ros2_param('get', '/drive_controller', 'rate'))


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_every_process_exited_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
