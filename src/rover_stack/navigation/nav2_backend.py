"""Thin Nav2 backend for the navigator (parameter ``backend: nav2``): each navigate_to_goal goal is
forwarded to Nav2's ``navigate_to_pose`` action (nav2_msgs/action/NavigateToPose), its feedback relayed and
its outcome mapped to the NavigateToGoal result. Nav2 then owns planning, control, costmaps (from ``scan``)
and recoveries, configured by config/nav2_params.yaml.

Untested here: Nav2 and nav2_msgs are not installed in this workspace. ``nav2_action_type`` fails with a
clear message at start-up when nav2_msgs is missing. Importing this module needs no ROS.
"""
from __future__ import annotations

NAVIGATE_TO_POSE = 'navigate_to_pose'


class Nav2UnavailableError(RuntimeError):
    """backend=nav2 was asked for but nav2_msgs cannot be imported."""


def nav2_action_type():
    """nav2_msgs.action.NavigateToPose, or Nav2UnavailableError."""
    try:
        from nav2_msgs.action import NavigateToPose
    except ImportError as error:
        raise Nav2UnavailableError(
            f"backend 'nav2' needs nav2_msgs (ROS 2 Nav2), which cannot be imported ({error}); install Nav2 "
            "and start it with config/nav2_params.yaml, or use backend 'native'") from None
    return NavigateToPose


class Nav2Backend:
    """Forwards goals of ``node`` (an rclpy Node) to Nav2; one goal at a time."""

    def __init__(self, node, server_timeout: float = 5.0):
        from rclpy.action import ActionClient

        self._node = node
        self._type = nav2_action_type()
        self._client = ActionClient(node, self._type, NAVIGATE_TO_POSE)
        self._server_timeout = server_timeout
        self._nav2_goal = None

    async def navigate(self, request, result_type, publish_feedback):
        """Run one goal on Nav2; returns a filled ``result_type`` (NavigateToGoal.Result)."""
        from action_msgs.msg import GoalStatus

        result = result_type()
        if not self._client.server_is_ready():
            result.error_code = result_type.FAILED
            result.message = f'Nav2 {NAVIGATE_TO_POSE} server not available'
            return result
        goal = self._type.Goal()
        goal.pose = request.goal

        def relay(feedback_msg):
            publish_feedback(feedback_msg.feedback.current_pose, feedback_msg.feedback.distance_remaining,
                             feedback_msg.feedback.number_of_recoveries)

        handle = await self._client.send_goal_async(goal, feedback_callback=relay)
        if not handle.accepted:
            result.error_code, result.message = result_type.FAILED, 'Nav2 rejected the goal'
            return result
        self._nav2_goal = handle
        response = await handle.get_result_async()
        self._nav2_goal = None
        status = response.status
        if status == GoalStatus.STATUS_SUCCEEDED:
            result.error_code, result.message = result_type.SUCCEEDED, 'Nav2 reached the goal'
        elif status == GoalStatus.STATUS_CANCELED:
            result.error_code, result.message = result_type.CANCELED, 'Nav2 goal canceled'
        else:
            result.error_code, result.message = result_type.FAILED, f'Nav2 goal ended with status {status}'
        return result

    def cancel(self) -> None:
        """Ask Nav2 to cancel the goal in progress, if any."""
        if self._nav2_goal is not None:
            self._nav2_goal.cancel_goal_async()
