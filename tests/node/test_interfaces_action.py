"""Two nodes exchange the stack's ExecuteMission action over DDS: goal, feedback, result, cancel."""
import threading
import time

import pytest
import rclpy
from action_msgs.msg import GoalStatus
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.executors import MultiThreadedExecutor

from rover_interfaces.action import ExecuteMission
from rover_interfaces.msg import LegOutcome, MarkerDetection
from rover_stack.testing.waiting import spin_until

LEGS = 3


class FakeMissionServer:
    """A minimal server: reports one feedback per leg, succeeds, honours cancel between legs."""

    def __init__(self, node):
        self.cancel_seen = threading.Event()
        self.hold = threading.Event()   # when set, the server waits between legs until cancelled
        self._server = ActionServer(
            node, ExecuteMission, 'execute_mission', self._execute,
            goal_callback=self._on_goal, cancel_callback=lambda _handle: CancelResponse.ACCEPT)

    @staticmethod
    def _on_goal(goal):
        has_file, has_yaml = bool(goal.mission_file), bool(goal.mission_yaml)
        return GoalResponse.ACCEPT if has_file != has_yaml else GoalResponse.REJECT

    def _execute(self, handle):
        result = ExecuteMission.Result()
        for leg in range(handle.request.start_leg, LEGS):
            deadline = time.monotonic() + 5.0
            while self.hold.is_set() and not handle.is_cancel_requested and time.monotonic() < deadline:
                time.sleep(0.01)
            if handle.is_cancel_requested:
                self.cancel_seen.set()
                handle.canceled()
                result.message = f'canceled during leg {leg}'
                return result
            feedback = ExecuteMission.Feedback(
                leg_index=leg, leg_count=LEGS, leg_kind='gnss', state='navigate',
                distance_to_target=10.0 - leg, elapsed=float(leg))
            feedback.confirmed_detections = [MarkerDetection(kind=MarkerDetection.KIND_ARUCO, id=leg)]
            handle.publish_feedback(feedback)
            result.legs.append(LegOutcome(leg_index=leg, leg_kind='gnss', outcome=LegOutcome.SUCCEEDED))
        handle.succeed()
        result.success = True
        result.message = 'all legs done'
        return result


@pytest.fixture
def pair(ros_context):
    server_node = rclpy.create_node('mission_server', context=ros_context)
    client_node = rclpy.create_node('mission_client', context=ros_context)
    server = FakeMissionServer(server_node)
    client = ActionClient(client_node, ExecuteMission, 'execute_mission')
    executor = MultiThreadedExecutor(num_threads=3, context=ros_context)
    executor.add_node(server_node)
    executor.add_node(client_node)
    yield server, client, executor
    executor.shutdown()
    client.destroy()
    server_node.destroy_node()
    client_node.destroy_node()


def _send(client, executor, goal, feedback):
    spin_until(executor, client.server_is_ready, 10.0, 'the action server')
    future = client.send_goal_async(goal, feedback_callback=lambda msg: feedback.append(msg.feedback))
    spin_until(executor, future.done, 5.0, 'goal response')
    return future.result()


def test_goal_feedback_result(pair):
    _server, client, executor = pair
    feedback = []
    handle = _send(client, executor, ExecuteMission.Goal(mission_yaml='legs: []'), feedback)
    assert handle.accepted
    result_future = handle.get_result_async()
    spin_until(executor, result_future.done, 5.0, 'result')
    result = result_future.result().result
    assert result.success and result.message == 'all legs done'
    assert [leg.leg_index for leg in result.legs] == [0, 1, 2]
    spin_until(executor, lambda: len(feedback) == LEGS, 15.0, 'all feedback')
    assert [f.leg_index for f in feedback] == [0, 1, 2]
    assert feedback[2].confirmed_detections[0].id == 2


def test_goal_with_both_sources_is_rejected(pair):
    _server, client, executor = pair
    handle = _send(client, executor, ExecuteMission.Goal(mission_file='a.yaml', mission_yaml='x'), [])
    assert not handle.accepted


def test_cancel(pair):
    server, client, executor = pair
    server.hold.set()
    handle = _send(client, executor, ExecuteMission.Goal(mission_file='m.yaml'), [])
    assert handle.accepted
    cancel_future = handle.cancel_goal_async()
    spin_until(executor, cancel_future.done, 5.0, 'cancel response')
    assert len(cancel_future.result().goals_canceling) == 1
    result_future = handle.get_result_async()
    spin_until(executor, result_future.done, 5.0, 'canceled result')
    assert server.cancel_seen.is_set()
    assert result_future.result().status == GoalStatus.STATUS_CANCELED
    assert result_future.result().result.message.startswith('canceled during leg')
