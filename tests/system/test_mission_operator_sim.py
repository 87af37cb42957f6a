"""Operator actions on a real simulated mission (issue #7): the whole `sim` profile as processes on course
flat_easy, in one run (to keep CI time low), checked in sequence:

1. teleop takeover on joystick/cmd_vel during leg 1 -> active_source joystick, mission/status TELEOP,
   status light blue; released -> the mission resumes by itself and leg 1 succeeds;
2. SIGKILL of mission_executive during leg 2 -> the runner respawns it -> it restores the mission at leg 2
   from the progress file, paused (docs/safety.md); the operator's mission/resume continues it (leg 1
   not driven again);
3. mission/abort_and_return during leg 2 -> the rover drives back to wp1 (ground truth) -> aborted.

Map positions (m) of flat_easy: start (0, 0), wp1 (15, 5), wp2 (25, -10), post 1 (38, -2).
"""
from __future__ import annotations

import math
import os
import signal

import pytest
import rclpy
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from std_msgs.msg import String
from std_srvs.srv import Trigger

from rover_interfaces.action import ExecuteMission
from rover_interfaces.msg import MissionStatus, StatusLight
from rover_stack.autonomy import persistence
from rover_stack.autonomy.executive import RESTORED
from rover_stack.common.qos import command_qos, latched_qos
from rover_stack.common.trigger_call import call_until_accepted
from rover_stack.drive.estop_reset import reset_estop
from rover_stack.testing.sim_stack import send_goal as send_goal_on
from rover_stack.testing.sim_stack import start_sim
from rover_stack.testing.waiting import spin_until

COURSE = 'flat_easy'
START, WP1, WP2 = (0.0, 0.0), (15.0, 5.0), (25.0, -10.0)
TOLERANCE = 2.0          # m, the mission's leg tolerance
TELEOP_SIM_S = 3.0       # s of sim time on the joystick
TELEOP_PERIOD = 0.05     # s (20 Hz)
RETURN_FROM = 6.0        # m from wp1 when the abort is sent


class Operator:
    """The test's node (sim time): watches the stack's topics, drives the joystick, calls services."""

    def __init__(self, context):
        self.node = rclpy.create_node('operator_test', context=context,
                                      parameter_overrides=[Parameter('use_sim_time', value=True)])
        self.statuses: list[MissionStatus] = []
        self.lights: list[StatusLight] = []
        self.sources: list[str] = []
        self.truth: tuple[float, float] | None = None
        node = self.node
        node.create_subscription(MissionStatus, 'mission/status', self.statuses.append, latched_qos())
        node.create_subscription(StatusLight, 'status_light', self.lights.append, latched_qos())
        node.create_subscription(String, 'active_source', lambda m: self.sources.append(m.data), latched_qos())
        node.create_subscription(Odometry, 'sim/ground_truth', self._on_truth, command_qos())
        self.joystick = node.create_publisher(TwistStamped, 'joystick/cmd_vel', command_qos())
        self.teleop_until: float | None = None      # s, sim time
        node.create_timer(TELEOP_PERIOD, self._publish_joystick)   # follows /clock
        self.mission = ActionClient(node, ExecuteMission, 'execute_mission')
        self.abort = node.create_client(Trigger, 'mission/abort_and_return')
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(node)

    def _on_truth(self, msg: Odometry) -> None:
        p = msg.pose.pose.position
        if math.isfinite(p.x) and math.isfinite(p.y):
            self.truth = (p.x, p.y)

    def now(self) -> float:
        return self.node.get_clock().now().nanoseconds * 1e-9

    def _publish_joystick(self) -> None:
        if self.teleop_until is None or self.now() > self.teleop_until:
            return
        msg = TwistStamped()
        msg.header.stamp, msg.header.frame_id = self.node.get_clock().now().to_msg(), 'base_link'
        msg.twist.linear.x, msg.twist.angular.z = 0.3, 0.3   # m/s, rad/s: a gentle left turn
        self.joystick.publish(msg)

    def latest(self) -> MissionStatus | None:
        return self.statuses[-1] if self.statuses else None

    def distance_to(self, point) -> float:
        return math.dist(self.truth, point) if self.truth is not None else math.nan

    def wait(self, condition, timeout: float, what: str) -> None:
        spin_until(self.executor, condition, timeout, what)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


def describe(status: MissionStatus | None) -> str:
    if status is None:
        return 'no mission/status'
    return (f'mission/status state {status.state} leg {status.leg_index} {status.leg_state!r} '
            f'source {status.active_command_source!r}: {status.message!r}')


@pytest.fixture
def stack(tmp_path, ros_context):
    # The runner command of `rover sim --course flat_easy --seed 1 --no-web` (the page is not needed here).
    runner, progress = start_sim(COURSE, 1, tmp_path)
    operator = None
    try:
        operator = Operator(ros_context)
        yield runner, operator, progress
    finally:
        if operator is not None:
            operator.teleop_until = None
            operator.close()
        runner.stop()


def send_goal(operator: Operator, goal, timeout: float = 60.0):
    """Send ``goal`` (again after 5 s without a response); returns the accepted goal handle."""
    return send_goal_on(operator.mission, operator.executor, goal, timeout)


@pytest.mark.timeout(300)
def test_operator_takeover_respawn_and_abort_on_flat_easy(stack):
    runner, op, progress = stack
    log = runner.tail

    def waited(condition, timeout, what):
        try:
            op.wait(lambda: condition() or runner.process.poll() is not None, timeout, what)
        except AssertionError as error:
            raise AssertionError(f'{error}; {describe(op.latest())}{log()}') from None
        assert runner.process.poll() is None, f'the runner ended ({runner.process.returncode}){log()}'

    waited(op.mission.server_is_ready, 150.0, 'execute_mission server')
    waited(lambda: op.truth is not None and op.now() > 0.0, 30.0, 'sim/ground_truth and /clock')
    reset_estop(op.node, op.executor)     # a started drive controller is latched: the operator resets it
    handle = send_goal(op, ExecuteMission.Goal(mission_file=COURSE))
    assert handle.accepted, log()

    # 1. Teleop takeover while leg 1 is being driven, then release.
    def driving_leg1():
        s = op.latest()
        return (s is not None and s.state == MissionStatus.RUNNING and s.leg_index == 0
                and s.leg_state == 'navigate' and op.distance_to(START) > 2.0)
    waited(driving_leg1, 90.0, 'leg 1 under way (2 m from the start)')
    assert op.distance_to(WP1) > 6.0, f'leg 1 nearly done before the takeover: {op.truth}'
    op.teleop_until = op.now() + TELEOP_SIM_S
    statuses_from, lights_from, sources_from = len(op.statuses), len(op.lights), len(op.sources)

    def seen(items, start, match):
        return next((item for item in items[start:] if match(item)), None)
    waited(lambda: 'joystick' in op.sources[sources_from:], 30.0, 'active_source joystick')
    waited(lambda: seen(op.statuses, statuses_from, lambda s: s.state == MissionStatus.TELEOP), 30.0,
           'mission/status TELEOP')
    waited(lambda: seen(op.lights, lights_from, lambda light: light.color == StatusLight.BLUE), 30.0,
           'blue status light')
    blue = seen(op.lights, lights_from, lambda light: light.color == StatusLight.BLUE)
    assert blue.reason == 'teleop:joystick' and not blue.flashing, blue
    teleop = seen(op.statuses, statuses_from, lambda s: s.state == MissionStatus.TELEOP)
    assert teleop.leg_index == 0 and teleop.active_command_source == 'joystick', describe(teleop)
    # The joystick stops after TELEOP_SIM_S: the mission resumes by itself (resume_after_takeover).
    waited(lambda: op.now() > op.teleop_until, 60.0, 'end of the joystick input')
    statuses_from, lights_from = len(op.statuses), len(op.lights)
    waited(lambda: seen(op.statuses, statuses_from, lambda s: s.state == MissionStatus.RUNNING), 30.0,
           'mission resumed after the takeover')
    waited(lambda: seen(op.lights, lights_from, lambda light: light.color == StatusLight.RED), 30.0,
           'red status light again')
    waited(lambda: op.sources[-1] == 'autonomy', 30.0, 'active_source autonomy again')
    waited(lambda: op.latest().leg_index >= 1, 120.0, 'leg 1 done')
    saved = persistence.load(progress)
    assert saved is not None and saved.legs[0].outcome == 'SUCCEEDED', saved

    # 2. SIGKILL the executive once leg 2 has started: respawned, it restores leg 2 paused; resumed, it goes on.
    waited(lambda: op.latest().state == MissionStatus.RUNNING and op.latest().leg_state == 'navigate',
           60.0, 'leg 2 under way')
    assert op.latest().leg_index == 1, describe(op.latest())
    first_pid = runner.executive_pids()[0]
    os.kill(first_pid, signal.SIGKILL)
    killed_at = len(op.statuses)
    at_kill = op.distance_to(WP2)
    waited(lambda: len(runner.executive_pids()) >= 2, 60.0, 'mission_executive respawned')
    waited(lambda: any('resuming mission' in line and 'at leg 2' in line for line in list(runner.lines)),
           90.0, "the respawned executive's 'resuming mission ... at leg 2'")
    waited(lambda: op.latest().state == MissionStatus.PAUSED and op.latest().message.startswith(RESTORED),
           60.0, 'the mission restored paused')
    call_until_accepted(op.node, op.executor, 'mission/resume', timeout=60.0)   # the operator resumes it
    resumed_at = len(op.statuses)       # from here on, statuses come from the new process
    waited(lambda: seen(op.statuses, resumed_at, lambda s: s.state == MissionStatus.RUNNING
                        and s.leg_index == 1), 60.0, 'mission/status RUNNING at leg 2 after the respawn')
    # Heading for wp2, not back to wp1; far enough from wp1 that the return below is a real drive.
    waited(lambda: op.distance_to(WP2) < at_kill - 1.5 and op.distance_to(WP1) > RETURN_FROM, 90.0,
           f'the rover approaching wp2, {RETURN_FROM} m past wp1')
    resumed = [s for s in op.statuses[killed_at:] if s.mission_name]
    assert all(s.leg_index >= 1 for s in resumed), [describe(s) for s in resumed]
    assert op.latest().leg_index == 1, f'leg 2 over before the abort: {describe(op.latest())}'

    # 3. Abort and return: back to wp1 (the leg before leg 2), then aborted.
    request = op.abort.call_async(Trigger.Request())
    waited(request.done, 30.0, 'mission/abort_and_return response')
    assert request.result().success, request.result().message
    waited(lambda: op.latest().state == MissionStatus.RETURNING, 30.0, 'mission/status RETURNING')
    waited(lambda: op.latest().state in (MissionStatus.FAILED, MissionStatus.SUCCEEDED, MissionStatus.CANCELED),
           120.0, 'the return to wp1')
    final = op.latest()
    assert final.state == MissionStatus.FAILED and final.leg_state == 'aborted', describe(final) + log()
    assert 'reached' in final.message, describe(final)
    # (The return goal's navigator tolerance is the whole leg tolerance, so this margin is only the
    # localization error at the stop: measured 1.6-1.85 m.)
    assert op.distance_to(WP1) <= TOLERANCE, (
        f'ground truth {op.truth} is {op.distance_to(WP1):.2f} m from wp1 after the return{log()}')
    saved = persistence.load(progress)
    assert [leg.outcome for leg in saved.legs[:2]] == ['SUCCEEDED', 'ABORTED'] and not saved.running, saved
