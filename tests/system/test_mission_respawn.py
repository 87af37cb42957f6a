"""mission_executive as a runner-managed process: SIGKILL mid-mission -> respawn -> the mission is restored
paused at the last completed leg; nothing drives until the operator's mission/resume (docs/safety.md), then it
goes on from there, and the client's re-sent goal attaches to it. The navigator is a fake in this process."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import rclpy
from action_msgs.msg import GoalStatus
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient, ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor

from rover_interfaces.action import ExecuteMission, NavigateToGoal
from rover_interfaces.msg import LegOutcome, MissionStatus
from rover_stack.autonomy.executive import RESTORED
from rover_stack.common.qos import command_qos, latched_qos
from rover_stack.common.trigger_call import call_until_accepted
from rover_stack.geo.enu import LocalTangentPlane
from rover_stack.testing.sim_stack import send_goal
from rover_stack.testing.waiting import spin_for, spin_until

PLANE = LocalTangentPlane(38.4064, -110.7919)
TARGETS = [(6.0, 0.0), (6.0, 6.0), (0.0, 6.0)]
STARTED = re.compile(r'\[rover_runner\] started mission_executive \(pid (\d+)\)')


def mission_yaml() -> str:
    legs = []
    for x, y in TARGETS:
        lat, lon, _ = PLANE.to_geodetic(x, y)
        legs.append(f'  - {{kind: gnss, latitude: {lat:.8f}, longitude: {lon:.8f}}}')
    return 'name: respawn_test\ndatum: {latitude: 38.4064, longitude: -110.7919}\nlegs:\n' + '\n'.join(legs) + '\n'


class Runner:
    def __init__(self, config, tmp_path):
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'rover_stack.bringup.runner', 'mission_only', '--config', str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
            process_group=0, cwd=tmp_path)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip('\n'))

    def pids(self) -> list[int]:
        return [int(m.group(1)) for line in list(self.lines) if (m := STARTED.search(line))]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


class FakeNavigator:
    """Goals to TARGETS[hold_index] wait until released; every other goal succeeds at once."""

    def __init__(self, node):
        self.goals: list[tuple[float, float]] = []
        self.hold_index = 1
        self.release = threading.Event()
        self.pose = (0.0, 0.0)
        self.server = ActionServer(node, NavigateToGoal, 'navigate_to_goal', self._execute,
                                   callback_group=ReentrantCallbackGroup(),
                                   cancel_callback=lambda _h: CancelResponse.ACCEPT)
        self.odom = node.create_publisher(Odometry, 'odometry/filtered', command_qos())
        self.node = node
        node.create_timer(0.1, self._publish)

    def _execute(self, handle):
        p = handle.request.goal.pose.position
        self.goals.append((round(p.x, 2), round(p.y, 2)))
        deadline = time.monotonic() + 30.0
        while (round(p.x, 2), round(p.y, 2)) == TARGETS[self.hold_index] and not self.release.is_set():
            if handle.is_cancel_requested or time.monotonic() > deadline:
                handle.canceled()
                return NavigateToGoal.Result(error_code=NavigateToGoal.Result.CANCELED)
            time.sleep(0.02)
        self.pose = (p.x, p.y)
        handle.succeed()
        return NavigateToGoal.Result(error_code=NavigateToGoal.Result.SUCCEEDED)

    def _publish(self):
        msg = Odometry()
        msg.header.frame_id = 'map'
        msg.pose.pose.position.x, msg.pose.pose.position.y = self.pose
        msg.pose.pose.orientation.w = 1.0
        self.odom.publish(msg)


@pytest.fixture
def stack(tmp_path, ros_context):
    progress = tmp_path / 'progress.json'
    config = tmp_path / 'node_sets.yaml'
    config.write_text(textwrap.dedent(f"""\
        profiles:
          mission_only:
            description: the mission executive alone (test)
            args: {{}}
            nodes:
              - executable: mission_executive
                name: mission_executive
                parameters:
                  - {{progress_file: '{progress}', arrived_hold: 0.2, rate: 20.0, status_period: 0.2}}
                respawn: true
                respawn_delay: 0.2
                required: true
        """))
    runner = Runner(config, tmp_path)
    node = rclpy.create_node('respawn_test', context=ros_context)
    navigator = FakeNavigator(node)
    executor = MultiThreadedExecutor(num_threads=3, context=ros_context)
    executor.add_node(node)
    yield runner, node, navigator, executor
    navigator.release.set()
    runner.stop()
    executor.shutdown()
    node.destroy_node()


def test_killed_executive_resumes_from_the_last_completed_leg(stack):
    runner, node, navigator, executor = stack
    client = ActionClient(node, ExecuteMission, 'execute_mission')
    statuses: list[MissionStatus] = []
    node.create_subscription(MissionStatus, 'mission/status', statuses.append, latched_qos())
    spin_until(executor, client.server_is_ready, 60.0, 'execute_mission server')
    started = time.monotonic()
    goal = ExecuteMission.Goal(mission_yaml=mission_yaml())
    assert send_goal(client, executor, goal).accepted
    spin_until(executor, lambda: TARGETS[1] in navigator.goals, 30.0, 'leg 2 under way')
    assert navigator.goals[:2] == TARGETS[:2]
    # The runner treats an exit within 2 s of the start as "failed to start" (not respawned).
    spin_for(executor, max(0.0, started + 2.5 - time.monotonic()))
    os.kill(runner.pids()[0], signal.SIGKILL)
    spin_until(executor, lambda: len(runner.pids()) >= 2, 30.0, 'mission_executive respawned')
    # The new process restores the mission paused: no goal until the operator resumes it.
    spin_until(executor, lambda: statuses and statuses[-1].state == MissionStatus.PAUSED
               and statuses[-1].message.startswith(RESTORED), 60.0, 'the mission restored paused')
    spin_for(executor, 1.0)
    assert len(navigator.goals) == 2, f'a goal before the resume: {navigator.goals}'
    call_until_accepted(node, executor, 'mission/resume', timeout=60.0)
    # Then it drives to leg 2 again, not back to leg 1.
    spin_until(executor, lambda: len(navigator.goals) >= 3, 60.0, 'a goal from the respawned executive')
    assert navigator.goals[2] == TARGETS[1], navigator.goals
    # The client sends the same goal again (as `rover sim` does): it takes over the resumed mission.
    spin_until(executor, client.server_is_ready, 30.0, 'respawned server')
    handle = send_goal(client, executor, goal)
    assert handle.accepted, '\n'.join(runner.lines[-30:])
    navigator.release.set()
    result_future = handle.get_result_async()
    spin_until(executor, result_future.done, 60.0, 'mission result')
    response = result_future.result()
    assert response.status == GoalStatus.STATUS_SUCCEEDED, response.result.message
    assert [leg.outcome for leg in response.result.legs] == [LegOutcome.SUCCEEDED] * 3
    assert TARGETS[0] not in navigator.goals[2:], 'leg 1 was driven again after the respawn'
    assert any('resuming mission' in line and 'at leg 2' in line for line in runner.lines), runner.lines[-20:]
    assert any('restored after a restart' in line for line in runner.lines), runner.lines[-20:]
