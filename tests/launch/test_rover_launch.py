"""launch_testing: `ros2 launch rover_stack rover.launch.py`, the launch file a team runs on the rover, with
its real drivers (motor, GNSS, IMU, camera), against the simulator's emulated devices
(docs/device_emulation.md): only the device paths are given as arguments, time is the wall clock. After
the operator's e-stop reset the urc_sprint goal is sent with `ros2 action send_goal`; every leg succeeds,
the rover never touches an obstacle, and it ends within the last leg's tolerance of the mallet by the
simulator's ground truth. Every process exits with 0 when launch shuts down.

One real-time mission: about 3 min of wall time on an idle machine.
"""
import math
import re
import socket
import tempfile
import time
import unittest
from pathlib import Path

import pytest

pytest.importorskip('launch_testing', reason='no launch_testing: no ROS 2 distro sourced and the tools '
                    'overlay is not built (make setup: scripts/build_tools.sh)')

import launch_testing.actions
import launch_testing.asserts
from launch.actions import ExecuteProcess, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from nav_msgs.msg import Odometry
from std_msgs.msg import String

from launch import LaunchDescription
from rover_stack.autonomy.mission import load_mission
from rover_stack.cli.emulated_devices import simulator_argv
from rover_stack.common.qos import command_qos
from rover_stack.common.share_files import package_share_dir
from rover_stack.sim.course import load_course
from rover_stack.testing.mission_goal import operator_node, send_mission_goal

MISSION = 'urc_sprint'
START_TIMEOUT = 240.0   # s wall until the drive controller accepts the e-stop reset (drivers open devices)
GOAL_TIMEOUT = 900.0    # s wall: ~170 s on an idle machine; real time, so load slows the stack, not the world
WORK = Path(tempfile.mkdtemp(prefix='rover_launch_'))
DEVICES = WORK / 'devices'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


CAMERA_PORT = free_port()


@pytest.mark.timeout(GOAL_TIMEOUT + START_TIMEOUT + 300)
@pytest.mark.launch_test
def generate_test_description():
    simulator = ExecuteProcess(
        cmd=[*simulator_argv(MISSION, 'skid4', 0, DEVICES), '-p', f'camera_port:={CAMERA_PORT}'],
        name='rover_simulator', output='screen')
    # the drivers open the device links as they would /dev/rover/*: until the simulator has made them,
    # they report the missing port and retry (docs/drivers.md)
    rover = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(package_share_dir() / 'launch' / 'rover.launch.py')),
        launch_arguments={'motor_port': str(DEVICES / 'motors'), 'gnss_port': str(DEVICES / 'gnss'),
                          'imu_port': str(DEVICES / 'imu'),
                          'camera_device': f'http://127.0.0.1:{CAMERA_PORT}/stream.mjpg',
                          'lidar': 'none', 'mission': MISSION, 'datum_source': 'file', 'web': 'false',
                          'mission_progress': str(WORK / 'mission_progress.json')}.items())
    return LaunchDescription([simulator, rover, launch_testing.actions.ReadyToTest()])


class TestRoverProfileMission(unittest.TestCase):

    def test_send_goal_completes_every_leg_through_the_real_drivers(self):
        truth, collisions = [], []
        with operator_node('rover_launch_operator') as (node, executor):   # wall clock, as on the rover
            node.create_subscription(Odometry, 'sim/ground_truth', truth.append, command_qos())
            node.create_subscription(String, 'sim/collisions', collisions.append, command_qos())
            code, output = send_mission_goal(node, executor, MISSION, start_timeout=START_TIMEOUT,
                                             goal_timeout=GOAL_TIMEOUT)
            end = time.monotonic() + 2.0
            while time.monotonic() < end:
                executor.spin_once(timeout_sec=0.1)      # the last ground truth and collisions
        self.assertEqual(code, 0, output)
        self.assertIn('Goal finished with status: SUCCEEDED', output)
        mission = load_mission(MISSION)
        outcomes = [int(code) for code in re.findall(r'outcome: (\d+)', output)]
        self.assertEqual(outcomes, [1] * len(mission.legs), output)   # 1: SUCCEEDED
        self.assertEqual([c.data for c in collisions], [])
        self.assertTrue(truth, 'no ground truth from the simulator')
        last = mission.legs[-1]
        course = load_course(MISSION)
        target = next(o for o in course.objects if o.kind == last.object)
        where = truth[-1].pose.pose.position
        self.assertLessEqual(math.hypot(where.x - target.x, where.y - target.y), last.tolerance,
                             f'true end position ({where.x:.2f}, {where.y:.2f}) vs the {last.object}')


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_every_process_exited_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
