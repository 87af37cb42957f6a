"""GoalClient over DDS against fake navigate_to_goal servers: send, re-send, supersede, restarted server."""
from __future__ import annotations

import threading
import time

import pytest
import rclpy
from action_msgs.msg import GoalStatus
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor

from rover_interfaces.action import NavigateToGoal
from rover_stack.autonomy.goal_client import GoalClient
from rover_stack.autonomy.server_watch import RestartWatch
from rover_stack.testing.waiting import spin_for, spin_until

TIMEOUT = 5.0    # s, the client's response timeout: > a loaded machine's answer time
WAIT = 30.0      # s, the tests' deadline for each fact
HOLD_MAX = 60.0  # s a fake server holds a goal or a request at most
SUCCEEDED = NavigateToGoal.Result.SUCCEEDED


def _goal(x: float) -> NavigateToGoal.Goal:
    goal = NavigateToGoal.Goal(tolerance=0.5)
    goal.goal.header.frame_id = 'map'
    goal.goal.pose.position.x = x
    goal.goal.pose.orientation.w = 1.0
    return goal


class FakeServer:
    """navigate_to_goal on its own node. Modes: 'succeed' ends a goal at once; 'hold' holds it until
    canceled or ``released``; 'lose_first' leaves the first request unanswered until a second came (then
    accepts it late, as after a lost reply) and holds goals as 'hold' does."""

    def __init__(self, context, name: str, mode: str):
        self.node = rclpy.create_node(name, context=context)
        self.mode = mode
        self.lock = threading.Lock()
        self.requests = 0
        self.goals: list[float] = []     # x of each executed goal, in order
        self.canceled = 0
        self.active = 0
        self.released = self.closing = self.destroyed = False
        ActionServer(self.node, NavigateToGoal, 'navigate_to_goal', self._execute,
                     callback_group=ReentrantCallbackGroup(), goal_callback=self._on_goal,
                     cancel_callback=lambda _h: CancelResponse.ACCEPT)

    def _on_goal(self, _request) -> GoalResponse:
        with self.lock:
            self.requests += 1
            first = self.requests == 1
        deadline = time.monotonic() + HOLD_MAX
        while self.mode == 'lose_first' and first and self.requests < 2 and not self.closing \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        return GoalResponse.ACCEPT

    def _execute(self, handle) -> NavigateToGoal.Result:
        with self.lock:
            self.goals.append(handle.request.goal.pose.position.x)
            self.active += 1
        try:
            deadline = time.monotonic() + HOLD_MAX
            while self.mode != 'succeed' and not self.released and not self.closing \
                    and time.monotonic() < deadline:
                with self.lock:       # a destroyed server's handle is not touched again
                    if not self.destroyed and handle.is_cancel_requested:
                        self.canceled += 1
                        handle.canceled()
                        return NavigateToGoal.Result(error_code=NavigateToGoal.Result.CANCELED)
                time.sleep(0.02)
            with self.lock:
                if self.destroyed:
                    return NavigateToGoal.Result()
                handle.succeed()
            return NavigateToGoal.Result(error_code=SUCCEEDED)
        finally:
            with self.lock:
                self.active -= 1


class Rig:
    """A GoalClient stepped by a 20 Hz timer on its node, the fake servers, one executor."""

    def __init__(self, context, **client_kwargs):
        self.context = context
        self.executor = MultiThreadedExecutor(num_threads=8, context=context)   # held goals block threads
        self.node = rclpy.create_node('goal_client_test', context=context)
        self.watch = RestartWatch(period=0.5)
        self.client = GoalClient(self.node, NavigateToGoal, 'navigate_to_goal', TIMEOUT,
                                 ReentrantCallbackGroup(), watch=self.watch, **client_kwargs)
        self.events: list = []
        self.servers: list[FakeServer] = []
        self.node.create_timer(0.05, self._step)
        self.executor.add_node(self.node)

    def _step(self):
        self.client.step(time.monotonic())
        self.events.extend(self.client.take_events())

    def start_server(self, mode: str) -> FakeServer:
        server = FakeServer(self.context, f'fake_navigator_{len(self.servers)}', mode)
        self.servers.append(server)
        self.executor.add_node(server.node)
        self.wait(self.client.server_is_ready, 'the server in the graph')
        return server

    def kill(self, server: FakeServer) -> None:
        """The server process dies: no result, no status, its goal is gone."""
        with server.lock:
            server.destroyed = True
        self.executor.remove_node(server.node)
        server.node.destroy_node()

    def kinds(self, tag) -> list[str]:
        return [e.kind for e in self.events if e.tag == tag]

    def result(self, tag):
        self.wait(lambda: 'result' in self.kinds(tag), f'the result of goal {tag!r}')
        return next(e for e in self.events if e.tag == tag and e.kind == 'result')

    def wait(self, condition, what: str, timeout: float = WAIT) -> None:
        spin_until(self.executor, condition, timeout, what)

    def close(self) -> None:
        for server in self.servers:
            server.closing = True
        live = [s for s in self.servers if not s.destroyed]
        spin_until(self.executor, lambda: all(s.active == 0 for s in live), 10.0, 'fake goals to end')
        self.executor.shutdown()
        self.node.destroy_node()
        for server in live:
            server.node.destroy_node()


@pytest.fixture
def rig(ros_context, request):
    rig = Rig(ros_context, **getattr(request, 'param', {}))
    yield rig
    rig.close()


def test_a_goal_is_sent_and_its_result_delivered(rig):
    server = rig.start_server('succeed')
    rig.client.send(_goal(1.0), 'a')
    event = rig.result('a')
    assert rig.kinds('a') == ['accepted', 'result']
    assert event.result.error_code == SUCCEEDED and event.status == GoalStatus.STATUS_SUCCEEDED
    assert server.goals == [1.0]


def test_an_unanswered_goal_is_sent_again_and_its_late_acceptance_canceled(rig):
    server = rig.start_server('lose_first')
    rig.client.send(_goal(2.0), 'b')
    rig.wait(lambda: server.canceled == 1 and rig.kinds('b') == ['accepted'], 'the late acceptance canceled')
    assert server.requests >= 2 and len(server.goals) >= 2
    server.released = True
    event = rig.result('b')                      # the re-sent goal, not the canceled one
    assert event.result.error_code == SUCCEEDED and rig.kinds('b') == ['accepted', 'result']
    assert server.canceled == 1


def test_a_new_goal_supersedes_the_current_one(rig):
    server = rig.start_server('hold')
    rig.client.send(_goal(1.0), 'a')
    rig.wait(lambda: rig.kinds('a') == ['accepted'], 'goal a accepted')
    rig.client.send(_goal(2.0), 'b')
    rig.wait(lambda: server.canceled == 1 and rig.kinds('b') == ['accepted'], 'a canceled, b accepted')
    server.released = True
    assert rig.result('b').result.error_code == SUCCEEDED
    assert server.goals == [1.0, 2.0] and server.canceled == 1
    assert rig.kinds('a') == ['accepted']        # the canceled goal's result is not reported


def test_cancel_stops_the_goal_and_reports_nothing(rig):
    server = rig.start_server('hold')
    rig.client.send(_goal(1.0), 'a')
    rig.wait(lambda: rig.kinds('a') == ['accepted'], 'goal a accepted')
    rig.client.cancel()
    rig.wait(lambda: server.canceled == 1 and server.active == 0, 'goal a canceled')
    rig.client.resend()                          # nothing to send again
    spin_for(rig.executor, 1.0)                  # 20 steps
    assert rig.kinds('a') == ['accepted'] and server.goals == [1.0] and server.requests == 1


def test_a_restarted_server_gets_the_goal_again(rig):
    first = rig.start_server('hold')
    rig.client.send(_goal(3.0), 'c')
    rig.wait(lambda: rig.kinds('c') == ['accepted'] and rig.watch.settled, 'goal c accepted, servers known')
    rig.kill(first)
    second = rig.start_server('succeed')         # the respawned server: it never heard of goal c
    event = rig.result('c')
    assert event.result.error_code == SUCCEEDED and rig.kinds('c') == ['accepted', 'accepted', 'result']
    assert first.goals == [3.0] and second.goals == [3.0]


@pytest.mark.parametrize(('rig', 'cancel'), [({}, True), ({'cancel_replaced': False}, False)], indirect=['rig'],
                         ids=['cancel_replaced', 'kept'])
def test_resend_sends_the_goal_again(rig, cancel):
    server = rig.start_server('hold')
    rig.client.send(_goal(4.0), 'd')
    rig.wait(lambda: rig.kinds('d') == ['accepted'], 'goal d accepted')
    rig.client.resend()                          # e.g. the owner saw the server's process respawn
    rig.wait(lambda: rig.kinds('d') == ['accepted', 'accepted'] and server.canceled == int(cancel),
             'goal d accepted again')
    server.released = True
    assert rig.result('d').result.error_code == SUCCEEDED
    rig.wait(lambda: server.active == 0, 'both goals ended')
    assert server.goals == [4.0, 4.0] and server.canceled == int(cancel)
