"""launch_testing: `ros2 launch rover_stack sim.launch.py course:=urc_sprint mission:=urc_sprint` and the
mission goal sent with `ros2 action send_goal`, as a user would in a second shell, after the operator's
e-stop reset (docs/safety.md); every leg succeeds and every process exits with 0 when launch shuts down.

The simulator runs as fast as it can (real_time_factor 0, as `rover sim` does): nodes follow its
/clock (use_sim_time defaults to true in the sim profile), so a loaded machine only makes it slower.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import pytest

pytest.importorskip('launch_testing', reason='no launch_testing: no ROS 2 distro sourced and the tools '
                    'overlay is not built (make setup: scripts/build_tools.sh)')

import launch_testing.actions
import launch_testing.asserts
import rclpy
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter

from launch import LaunchDescription
from rover_interfaces.msg import MissionStatus
from rover_stack.autonomy.mission import load_mission
from rover_stack.common.qos import latched_qos
from rover_stack.common.share_files import package_share_dir
from rover_stack.common.trigger_call import call_until_accepted
from rover_stack.drive.estop_reset import reset_estop

MISSION = 'urc_sprint'
START_TIMEOUT = 180.0   # s wall until the drive controller accepts the e-stop reset
START_HOLD = 30.0       # s wall after the reset in which an e-stop pause of the new mission is resumed once
ESTOP_PAUSED = 'paused by the e-stop'   # message prefix of the executive's e-stop pause
GOAL_TIMEOUT = 1500.0   # s wall: urc_sprint takes ~250 s wall alone, several times that on a loaded machine
PROGRESS = os.path.join(tempfile.mkdtemp(prefix='mission_launch_'), 'mission_progress.json')


@pytest.mark.timeout(GOAL_TIMEOUT + 300)
@pytest.mark.launch_test
def generate_test_description():
    sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(package_share_dir() / 'launch' / 'sim.launch.py')),
        launch_arguments={'course': MISSION, 'mission': MISSION, 'real_time_factor': '0.0',
                          'datum_source': 'file', 'web': 'false', 'mission_progress': PROGRESS}.items())
    return LaunchDescription([sim, launch_testing.actions.ReadyToTest()])


class TestMission(unittest.TestCase):

    def test_send_goal_completes_every_leg(self):
        ros2 = shutil.which('ros2')
        self.assertIsNotNone(ros2, 'no ros2 command line')
        context = rclpy.Context()
        rclpy.init(context=context)
        node = rclpy.create_node('mission_launch_operator', context=context,
                                 parameter_overrides=[Parameter('use_sim_time', value=True)])
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        statuses = []
        node.create_subscription(MissionStatus, 'mission/status', statuses.append, latched_qos())
        goal = None
        try:
            reset_estop(node, executor, timeout=START_TIMEOUT)   # a started drive controller is latched
            reset_at = time.monotonic()
            # send_goal waits for the action server itself, then for the result
            goal = subprocess.Popen(
                [ros2, 'action', 'send_goal', '/execute_mission', 'rover_interfaces/action/ExecuteMission',
                 f'{{mission_file: {MISSION}}}'],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            resumed = False
            deadline = time.monotonic() + GOAL_TIMEOUT
            while goal.poll() is None:
                self.assertLess(time.monotonic(), deadline, 'the mission did not finish')
                executor.spin_once(timeout_sec=0.5)
                status = statuses[-1] if statuses else None
                if (not resumed and status is not None and status.state == MissionStatus.PAUSED
                        and status.message.startswith(ESTOP_PAUSED) and time.monotonic() - reset_at < START_HOLD):
                    # the goal came right after the reset, before the executive saw it (as in rover sim)
                    call_until_accepted(node, executor, 'mission/resume', timeout=30.0)
                    resumed = True
            output = goal.stdout.read()
        finally:
            if goal is not None and goal.poll() is None:
                goal.kill()
                goal.wait()
            executor.shutdown()
            node.destroy_node()
            context.try_shutdown()
        self.assertEqual(goal.returncode, 0, output)
        self.assertIn('Goal accepted', output)
        self.assertIn('Goal finished with status: SUCCEEDED', output)
        self.assertRegex(output, r'success: true')
        outcomes = [int(code) for code in re.findall(r'outcome: (\d+)', output)]
        self.assertEqual(outcomes, [1] * len(load_mission(MISSION).legs), output)   # 1: SUCCEEDED


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_every_process_exited_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
