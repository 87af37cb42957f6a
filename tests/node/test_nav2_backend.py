"""The navigator's Nav2 backend (backend: nav2) against a NavigateToPose server in the test, with the real
nav2_msgs types (install-nav/, built by make test): goal forwarding (frame, pose), feedback, cancel, preemption
and Nav2's error codes mapped to NavigateToGoal results."""
import math

import pytest
import rclpy
from action_msgs.msg import GoalStatus
from action_msgs.srv import CancelGoal
from geometry_msgs.msg import PoseStamped
from rclpy.action import ActionClient, ActionServer, CancelResponse
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.task import Future

from rover_interfaces.action import NavigateToGoal
from rover_stack.navigation.nav2_backend import NAVIGATE_TO_POSE
from rover_stack.navigation.navigator_node import ACTION_NAME, NavigatorNode
from rover_stack.testing.waiting import spin_until

try:
    from nav2_msgs.action import NavigateToPose
except ImportError:       # conftest: fails under make test, skips (with the reason) elsewhere
    NavigateToPose = None

pytestmark = pytest.mark.nav2
Result = NavigateToGoal.Result


class FakeNav2(rclpy.node.Node):
    """A navigate_to_pose server that behaves like Nav2's bt_navigator at its action interface: one
    feedback per goal, then the outcome the test sets with ``finish``; a cancel request ends the goal
    CANCELED; a new goal aborts the running one (Nav2's preemption, error_code NONE)."""

    def __init__(self, context):
        super().__init__('fake_bt_navigator', context=context)
        self.goals: list[PoseStamped] = []
        self.cancels = 0
        self._outcomes: dict[bytes, Future] = {}
        self._current: Future | None = None
        self._server = ActionServer(self, NavigateToPose, NAVIGATE_TO_POSE, self._execute,
                                    cancel_callback=self._on_cancel)
        self._cancel_client = self.create_client(CancelGoal, f'{NAVIGATE_TO_POSE}/_action/cancel_goal')

    async def _execute(self, handle):
        if self._current is not None and not self._current.done():
            self._current.set_result(('abort', 0, ''))
        outcome = self._current = self._outcomes[bytes(handle.goal_id.uuid)] = Future()
        self.goals.append(handle.request.pose)
        feedback = NavigateToPose.Feedback(distance_remaining=7.5, number_of_recoveries=2)
        feedback.current_pose.header.frame_id = 'map'
        feedback.current_pose.pose.orientation.w = 1.0          # at the origin, facing +x
        handle.publish_feedback(feedback)
        kind, code, message = await outcome
        {'succeed': handle.succeed, 'cancel': handle.canceled, 'abort': handle.abort}[kind]()
        return NavigateToPose.Result(error_code=code, error_msg=message)

    def _on_cancel(self, handle):
        self.cancels += 1
        self._outcomes[bytes(handle.goal_id.uuid)].set_result(('cancel', 0, ''))
        return CancelResponse.ACCEPT

    def finish(self, kind: str, code: int = 0, message: str = '') -> None:
        """End the running goal: 'succeed', 'abort' (with a Nav2 error code), or 'cancel': another client
        (not the navigator) asks Nav2 to cancel every goal, as `ros2 service call .../cancel_goal` does."""
        if kind == 'cancel':
            self._cancel_client.call_async(CancelGoal.Request())    # zero id and stamp: all goals
        else:
            self._current.set_result((kind, code, message))


@pytest.fixture
def setup(ros_context):
    navigator = NavigatorNode(context=ros_context, parameter_overrides=[
        Parameter('backend', value='nav2'), Parameter('wait_timeout', value=20.0)])
    nav2 = FakeNav2(ros_context)
    client_node = rclpy.create_node('nav_client', context=ros_context)
    client = ActionClient(client_node, NavigateToGoal, ACTION_NAME)
    executor = SingleThreadedExecutor(context=ros_context)
    for node in (navigator, nav2, client_node):
        executor.add_node(node)
    spin_until(executor, client.server_is_ready, 20.0, 'navigate_to_goal server')
    try:
        yield executor, nav2, client
    finally:
        executor.shutdown()
        for node in (client_node, nav2, navigator):
            node.destroy_node()


def goal(x, y, yaw=0.0, frame='map'):
    request = NavigateToGoal.Goal()
    request.goal.header.frame_id = frame
    request.goal.pose.position.x, request.goal.pose.position.y = x, y
    request.goal.pose.orientation.z, request.goal.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    return request


def send(executor, client, request, feedback=None):
    future = client.send_goal_async(request, feedback_callback=feedback)
    spin_until(executor, future.done, 20.0, 'goal response')
    assert future.result().accepted
    return future.result()


def outcome(executor, handle, timeout=20.0):
    future = handle.get_result_async()
    spin_until(executor, future.done, timeout, 'navigation result')
    return future.result().status, future.result().result


def test_goal_is_forwarded_with_frame_and_pose_and_feedback_is_relayed(setup):
    executor, nav2, client = setup
    feedback = []
    handle = send(executor, client, goal(3.0, 3.0, yaw=0.7, frame='odom'), lambda m: feedback.append(m.feedback))
    spin_until(executor, lambda: nav2.goals and feedback, 20.0, 'the goal at Nav2 and its feedback')
    forwarded = nav2.goals[0]
    assert forwarded.header.frame_id == 'odom'
    assert (forwarded.pose.position.x, forwarded.pose.position.y) == (3.0, 3.0)
    assert forwarded.pose.orientation.z == pytest.approx(math.sin(0.35))
    assert feedback[0].distance_remaining == 7.5 and feedback[0].recoveries == 2
    assert feedback[0].current_pose.header.frame_id == 'map'
    assert feedback[0].heading_error == 0.0          # pose (map) and goal (odom) in different frames
    nav2.finish('succeed')
    status, result = outcome(executor, handle)
    assert (status, result.error_code) == (GoalStatus.STATUS_SUCCEEDED, Result.SUCCEEDED)
    assert result.final_distance == 7.5               # the last distance Nav2 reported


def test_feedback_heading_error_in_the_goal_frame(setup):
    executor, _, client = setup
    feedback = []
    send(executor, client, goal(3.0, 3.0), lambda m: feedback.append(m.feedback))
    spin_until(executor, lambda: feedback, 20.0, 'feedback')
    assert feedback[0].heading_error == pytest.approx(math.pi / 4)   # from (0, 0) facing +x to (3, 3)


def test_cancel_is_forwarded_to_nav2(setup):
    executor, nav2, client = setup
    handle = send(executor, client, goal(5.0, 0.0))
    spin_until(executor, lambda: nav2.goals, 20.0, 'the goal at Nav2')
    cancel = handle.cancel_goal_async()
    spin_until(executor, cancel.done, 20.0, 'cancel response')
    status, result = outcome(executor, handle)
    assert nav2.cancels == 1
    assert (status, result.error_code) == (GoalStatus.STATUS_CANCELED, Result.CANCELED)


@pytest.mark.parametrize(('kind', 'code', 'message', 'expected', 'text'), [
    ('abort', 204, 'Goal outside of the map', Result.INVALID_GOAL,
     'ComputePathToPose GOAL_OUTSIDE_MAP (204): Goal outside of the map'),
    ('abort', 105, 'no progress', Result.FAILED, 'FollowPath FAILED_TO_MAKE_PROGRESS (105)'),
    ('abort', 208, '', Result.FAILED, 'ComputePathToPose NO_VALID_PATH (208)'),
    ('abort', 0, '', Result.FAILED, 'Nav2 failed: error (0)'),
    ('cancel', 0, '', Result.CANCELED, 'not asked by this navigator'),   # someone else cancelled Nav2's goal
])
def test_nav2_outcomes_map_to_navigate_to_goal_results(setup, kind, code, message, expected, text):
    executor, nav2, client = setup
    handle = send(executor, client, goal(5.0, 0.0))
    spin_until(executor, lambda: nav2.goals, 20.0, 'the goal at Nav2')
    nav2.finish(kind, code, message)
    status, result = outcome(executor, handle)
    assert result.error_code == expected and text in result.message, result.message
    assert status == GoalStatus.STATUS_ABORTED       # the client did not cancel: the action is aborted


def test_a_new_goal_preempts_the_running_one(setup):
    executor, nav2, client = setup
    first = send(executor, client, goal(5.0, 0.0))
    spin_until(executor, lambda: nav2.goals, 20.0, 'the first goal at Nav2')
    second = send(executor, client, goal(0.0, 4.0))
    status, result = outcome(executor, first)       # Nav2 aborts the first when the second arrives
    assert (status, result.error_code) == (GoalStatus.STATUS_ABORTED, Result.CANCELED)
    assert result.message == 'preempted by a new goal'
    spin_until(executor, lambda: len(nav2.goals) == 2, 20.0, 'the second goal at Nav2')
    assert nav2.goals[1].pose.position.y == 4.0
    nav2.finish('succeed')
    assert outcome(executor, second)[1].error_code == Result.SUCCEEDED


def test_no_nav2_server_fails_the_goal_after_wait_timeout(ros_context):
    # in a namespace of its own: no server of an earlier test, still in the DDS discovery cache, answers
    navigator = NavigatorNode(context=ros_context, namespace='/no_nav2', parameter_overrides=[
        Parameter('backend', value='nav2'), Parameter('wait_timeout', value=1.0)])
    client_node = rclpy.create_node('nav_client', context=ros_context)
    client = ActionClient(client_node, NavigateToGoal, f'/no_nav2/{ACTION_NAME}')
    executor = SingleThreadedExecutor(context=ros_context)
    for node in (navigator, client_node):
        executor.add_node(node)
    try:
        spin_until(executor, client.server_is_ready, 20.0, 'navigate_to_goal server')
        _, result = outcome(executor, send(executor, client, goal(5.0, 0.0)))
        assert result.error_code == Result.FAILED and 'not available after 1 s' in result.message
    finally:
        executor.shutdown()
        client_node.destroy_node()
        navigator.destroy_node()
