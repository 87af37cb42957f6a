"""launch_testing: `ros2 launch rover_stack sim.launch.py course:=urc_sprint mission:=urc_sprint` and the
mission goal sent with `ros2 action send_goal`, as a user would in a second shell, after the operator's
e-stop reset (docs/safety.md); every leg succeeds and every process exits with 0 when launch shuts down.

The simulator runs as fast as it can (real_time_factor 0, as `rover sim` does): nodes follow its
/clock (use_sim_time defaults to true in the sim profile), so a loaded machine only makes it slower.
"""
import os
import re
import tempfile
import unittest

import pytest

pytest.importorskip('launch_testing', reason='no launch_testing: no ROS 2 distro sourced and the tools '
                    'overlay is not built (make setup: scripts/build_tools.sh)')

import launch_testing.actions
import launch_testing.asserts
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource

from launch import LaunchDescription
from rover_stack.autonomy.mission import load_mission
from rover_stack.common.share_files import package_share_dir
from rover_stack.testing.mission_goal import operator_node, send_mission_goal

MISSION = 'urc_sprint'
START_TIMEOUT = 180.0   # s wall until the drive controller accepts the e-stop reset
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
        with operator_node('mission_launch_operator', use_sim_time=True) as (node, executor):
            code, output = send_mission_goal(node, executor, MISSION, start_timeout=START_TIMEOUT,
                                             goal_timeout=GOAL_TIMEOUT)
        self.assertEqual(code, 0, output)
        self.assertIn('Goal accepted', output)
        self.assertIn('Goal finished with status: SUCCEEDED', output)
        self.assertRegex(output, r'success: true')
        outcomes = [int(code) for code in re.findall(r'outcome: (\d+)', output)]
        self.assertEqual(outcomes, [1] * len(load_mission(MISSION).legs), output)   # 1: SUCCEEDED


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_every_process_exited_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
