"""The page's mission controls against a live mission_executive: the real web_bridge WebSocket (with the
operator token) starts a mission by name, pauses, resumes, skips a leg, aborts and returns, cancels;
after each, mission/status (from the executive) and the page's telemetry show the new state."""
from __future__ import annotations

import json
import threading
import time

import pytest
import rclpy
from nav_msgs.msg import Odometry
from rclpy.action import ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter

from rover_interfaces.action import NavigateToGoal
from rover_interfaces.msg import MissionStatus
from rover_stack.autonomy.mission_executive_node import MissionExecutiveNode
from rover_stack.base_station import token as token_store
from rover_stack.base_station.web_bridge_node import WebBridgeNode
from rover_stack.common.qos import command_qos, latched_qos
from rover_stack.geo.enu import LocalTangentPlane
from rover_stack.testing.waiting import DeadlineExceededError

websockets_sync = pytest.importorskip('websockets.sync.client')

TOKEN = 'mission-controls-token-0123456789'
DATUM = (38.4064, -110.7919)
WP1, WP2, WP3 = (8.0, 0.0), (8.0, 8.0), (0.0, 8.0)   # map m


def _mission_yaml(name: str) -> str:
    plane = LocalTangentPlane(*DATUM)
    legs = ''
    for x, y in (WP1, WP2, WP3):
        lat, lon, _ = plane.to_geodetic(x, y)
        legs += f'  - kind: gnss\n    latitude: {lat:.8f}\n    longitude: {lon:.8f}\n'
    return (f'name: {name}\ndatum: {{latitude: {DATUM[0]}, longitude: {DATUM[1]}, altitude: 0.0}}\n'
            f'defaults: {{timeout: 60.0}}\nlegs:\n{legs}')


class FakeNavigator:
    """navigate_to_goal that holds each goal until canceled, or until ``release`` (then it arrives)."""

    def __init__(self, node):
        self.node = node
        self.goals: list[tuple[float, float]] = []
        self.canceled = 0
        self.active = 0
        self.release = False
        self.closing = False
        self.pose = (0.0, 0.0)
        self.lock = threading.Lock()
        self._server = ActionServer(node, NavigateToGoal, 'navigate_to_goal', self._execute,
                                    callback_group=ReentrantCallbackGroup(),
                                    cancel_callback=lambda _h: CancelResponse.ACCEPT)
        self._odom = node.create_publisher(Odometry, 'odometry/filtered', command_qos())
        node.create_timer(0.05, self._publish_pose)

    def _execute(self, handle):
        goal = handle.request.goal.pose.position
        with self.lock:
            self.goals.append((goal.x, goal.y))
            self.active += 1
        try:
            deadline = time.monotonic() + 30.0
            while time.monotonic() < deadline and not (self.closing or self.release):
                if handle.is_cancel_requested:
                    with self.lock:
                        self.canceled += 1
                    handle.canceled()
                    return NavigateToGoal.Result(error_code=NavigateToGoal.Result.CANCELED)
                time.sleep(0.02)
            if self.closing:
                handle.abort()
                return NavigateToGoal.Result(error_code=NavigateToGoal.Result.CANCELED)
            with self.lock:
                self.pose = (goal.x, goal.y)
            handle.succeed()
            return NavigateToGoal.Result(error_code=NavigateToGoal.Result.SUCCEEDED)
        finally:
            with self.lock:
                self.active -= 1

    def _publish_pose(self):
        with self.lock:
            x, y = self.pose
        odom = Odometry()
        odom.header.frame_id = 'map'
        odom.header.stamp = self.node.get_clock().now().to_msg()
        odom.pose.pose.position.x, odom.pose.pose.position.y = x, y
        odom.pose.pose.orientation.w = 1.0
        self._odom.publish(odom)

    def goal_list(self):
        with self.lock:
            return list(self.goals)


class Rig:
    """Executor, fake navigator, mission/status log, and one operator page on the bridge's WebSocket."""

    def __init__(self, executor, nav, ws):
        self.executor, self.nav, self.ws = executor, nav, ws
        self.statuses: list[MissionStatus] = []
        self.frames: list[dict] = []            # every message the page received
        self.page_mission: dict | None = None   # mission part of the latest telemetry

    def state(self):
        return self.statuses[-1].state if self.statuses else None

    def pump(self, condition, what, timeout=15.0):
        """Spin the nodes and read the page's messages until ``condition()``."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise DeadlineExceededError(f'timed out after {timeout:.1f} s waiting for {what}')
            self.executor.spin_once(timeout_sec=0.02)
            try:
                frame = json.loads(self.ws.recv(timeout=0.01))
            except TimeoutError:
                continue
            if frame['type'] == 'telemetry':
                self.page_mission = frame['mission']
            self.frames.append(frame)

    def command(self, action, **fields):
        """Send a mission command from the page; the bridge's result for it (an error fails the test)."""
        start, of = len(self.frames), f'mission {action}'

        def reply():
            return next((f for f in self.frames[start:] if f['type'] == 'error'
                         or (f['type'] == 'result' and f['of'] == of)), None)
        self.ws.send(json.dumps({'type': 'mission', 'action': action} | fields))
        self.pump(lambda: reply() is not None, f'the result of {of}')
        assert reply()['type'] == 'result', reply()
        return reply()

    def expect(self, state, what, page_state, extra=lambda: True):
        """mission/status reaches ``state`` and the page's telemetry shows ``page_state``."""
        self.pump(lambda: self.state() == state and extra(), f'mission/status {what}')
        self.pump(lambda: self.page_mission is not None and self.page_mission['state'] == page_state,
                  f'the page showing {page_state}')


@pytest.fixture
def rig(ros_context, tmp_path):
    (tmp_path / 'bs_controls.yaml').write_text(_mission_yaml('bs_controls'))
    mission = MissionExecutiveNode(context=ros_context, parameter_overrides=[
        Parameter('progress_file', value=str(tmp_path / 'progress.json')), Parameter('auto_resume', value=False),
        Parameter('allowed_mission_dirs', value=[str(tmp_path)]), Parameter('arrived_hold', value=0.1),
        Parameter('rate', value=20.0), Parameter('status_period', value=0.2), Parameter('nav_retries', value=1),
        Parameter('nav_response_timeout', value=2.0)])
    bridge = WebBridgeNode(context=ros_context, parameter_overrides=[
        Parameter('port', value=0), Parameter('token_file', value=str(token_store.write(tmp_path / 'token', TOKEN))),
        Parameter('camera_rate', value=0.0)])
    peer = rclpy.create_node('mission_controls_peer', context=ros_context)
    nav = FakeNavigator(peer)
    executor = MultiThreadedExecutor(num_threads=4, context=ros_context)
    for node in (mission, bridge, peer):
        executor.add_node(node)
    with websockets_sync.connect(f'ws://127.0.0.1:{bridge.port}/ws', open_timeout=5) as ws:
        t = Rig(executor, nav, ws)
        peer.create_subscription(MissionStatus, 'mission/status', t.statuses.append, latched_qos())
        ws.send(json.dumps({'type': 'hello', 'token': TOKEN}))
        t.pump(lambda: any(f['type'] == 'hello_ack' for f in t.frames), 'hello_ack')
        assert next(f for f in t.frames if f['type'] == 'hello_ack')['can_drive']
        yield t
        nav.closing = True
        t.pump(lambda: nav.active == 0, 'fake navigation goals to end', timeout=5.0)
    executor.shutdown()
    peer.destroy_node()
    bridge.destroy_node()
    mission.destroy_node()


def test_start_pause_resume_skip_abort_and_return_from_the_page(rig):
    t = rig
    result = t.command('start', mission='bs_controls')
    assert result['success'], result
    t.expect(MissionStatus.RUNNING, 'RUNNING', 'running', lambda: len(t.nav.goal_list()) == 1)
    assert t.nav.goal_list()[0] == pytest.approx(WP1, abs=0.01)
    assert t.page_mission['name'] == 'bs_controls' and t.page_mission['legs'] == 3

    assert t.command('pause')['success']
    t.expect(MissionStatus.PAUSED, 'PAUSED', 'paused', lambda: t.nav.canceled == 1)

    assert t.command('resume')['success']
    t.expect(MissionStatus.RUNNING, 'RUNNING again', 'running', lambda: len(t.nav.goal_list()) == 2)
    assert t.nav.goal_list()[1] == pytest.approx(WP1, abs=0.01)    # the same leg, re-sent

    assert t.command('skip')['success']
    t.expect(MissionStatus.RUNNING, 'on leg 2', 'running',
             lambda: t.statuses[-1].leg_index == 1 and len(t.nav.goal_list()) == 3)
    assert t.nav.goal_list()[2] == pytest.approx(WP2, abs=0.01)
    t.pump(lambda: t.page_mission['leg'] == 1, 'the page showing leg 2')

    assert t.command('abort_return')['success']
    t.expect(MissionStatus.RETURNING, 'RETURNING', 'returning', lambda: len(t.nav.goal_list()) == 4)
    assert t.nav.goal_list()[3] == pytest.approx(WP1, abs=0.01)    # back to the previous leg's location
    t.nav.release = True                                             # the rover gets there
    t.expect(MissionStatus.FAILED, 'ended as aborted', 'failed')
    assert 'aborted' in t.statuses[-1].message


def test_cancel_from_the_page_and_refused_commands(rig):
    t = rig
    assert not t.command('resume')['success']                        # nothing to resume: the executive says no
    assert t.command('start', mission='bs_controls')['success']
    t.expect(MissionStatus.RUNNING, 'RUNNING', 'running', lambda: len(t.nav.goal_list()) == 1)
    result = t.command('start', mission='no_such_mission')           # a second mission is refused
    assert not result['success'] and 'rejected' in result['message']
    assert t.command('cancel')['success']
    t.expect(MissionStatus.CANCELED, 'CANCELED', 'canceled', lambda: t.nav.canceled >= 1)
