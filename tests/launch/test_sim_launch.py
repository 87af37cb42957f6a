"""launch_testing test of launch/sim.launch.py: bring the sim profile up with its defaults, wait for the
topics, reset the e-stop as the operator would (docs/safety.md), drive forward through cmd_arbitration
with twists stamped in simulated time (the profile's use_sim_time default), check the odometry, then
check every process exits with 0.

Needs launch, launch_ros and launch_testing: a ROS 2 distro, or the overlay `make setup` builds from
upstream source (scripts/build_tools.sh). Without them the module is skipped, with the reason.
"""
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

from launch import LaunchDescription
from rover_stack.common.qos import command_qos
from rover_stack.common.share_files import package_share_dir
from rover_stack.drive.estop_reset import reset_estop
from rover_stack.testing.launch_probe import SimTimeProbeCase

SPEED = 0.5            # m/s
DISTANCE = 1.0         # m forward the odometry must show
DRIVE_LIMIT = 12.0     # s of simulated time to get there (1.0 m at 0.5 m/s takes ~2.5 s with the ramp)
START_TIMEOUT = 60.0   # s


@pytest.mark.launch_test
def generate_test_description():
    sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(package_share_dir() / 'launch' / 'sim.launch.py')),
        launch_arguments={'robot_config': 'skid4', 'web': 'false'}.items())
    return LaunchDescription([sim, launch_testing.actions.ReadyToTest()])


class TestSimDrive(SimTimeProbeCase):

    probe_name = 'sim_launch_probe'

    def setUp(self):
        super().setUp()
        self.odom = []
        self.node.create_subscription(Odometry, 'odom', self.odom.append, command_qos())
        self.cmd = self.node.create_publisher(TwistStamped, 'autonomy/cmd_vel', command_qos())

    def test_drive_forward_moves_the_odometry(self):
        self.spin_until(lambda: self.odom and self.cmd.get_subscription_count() > 0, START_TIMEOUT,
                        'odom and cmd_arbitration')
        reset_estop(self.node, self.executor, timeout=START_TIMEOUT)   # a started controller is latched
        start = self.odom[-1].pose.pose.position
        clock = self.node.get_clock()      # simulated time: a loaded machine only makes it slower
        begin = clock.now()
        wall_deadline = time.monotonic() + 10 * DRIVE_LIMIT

        def travelled():
            return self.odom[-1].pose.pose.position.x - start.x

        # Drive until the odometry shows DISTANCE: under load the probe's commands can arrive late or
        # expire (cmd_timeout), which slows the rover but must not make the test fail; a rover that
        # does not move fails at DRIVE_LIMIT of simulated time.
        while travelled() < DISTANCE and (clock.now() - begin).nanoseconds * 1e-9 < DRIVE_LIMIT:
            self.assertLess(time.monotonic(), wall_deadline, 'simulated time hardly advances')
            msg = TwistStamped()
            msg.header.stamp = clock.now().to_msg()
            msg.header.frame_id = 'base_link'
            msg.twist.linear.x = SPEED
            self.cmd.publish(msg)
            self.executor.spin_once(timeout_sec=0.05)
        self.assertGreaterEqual(travelled(), DISTANCE, f'odometry after {DRIVE_LIMIT} s of simulated time')
        self.assertLess(abs(self.odom[-1].pose.pose.position.y - start.y), 0.3 * travelled())
        self.spin_until(lambda: abs(self.odom[-1].twist.twist.linear.x) < 0.05, 30.0, 'the rover stopping')


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_every_process_exited_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)   # 0 only: SIGINT from launch ends every node cleanly
