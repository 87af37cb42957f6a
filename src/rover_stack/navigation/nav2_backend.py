"""Thin Nav2 backend for the navigator (parameter ``backend: nav2``): each navigate_to_goal goal is
forwarded to Nav2's ``navigate_to_pose`` action (nav2_msgs/action/NavigateToPose), its feedback relayed and
its outcome mapped to the NavigateToGoal result. Nav2 then owns planning, control, costmaps (from ``scan``)
and recoveries, configured by config/nav2_params.yaml.

Tested against a NavigateToPose server in the tests with the real nav2_msgs types
(tests/node/test_nav2_backend.py); Nav2's own servers (C++) are not installed here. ``nav2_action_type``
fails with a clear message at start-up when nav2_msgs is missing. Importing this module needs no ROS.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from rover_stack.common.actions import server_ready
from rover_stack.common.angles import wrap_angle
from rover_stack.tf.transform import yaw_from_quaternion

NAVIGATE_TO_POSE = 'navigate_to_pose'
PREEMPTED = 'preempted by a new goal'

# Error codes Nav2 Jazzy (nav2_msgs 1.3.13) reports in NavigateToPose.Result.error_code: the codes of
# the behaviour tree's actions (Nav2 passes on the highest-priority one). Checked against nav2_msgs by
# tests/unit/test_nav_nav2_backend.py. code -> (action, name).
NAV2_ERRORS: dict[int, tuple[str, str]] = {
    **{100 + i: ('FollowPath', name) for i, name in enumerate((
        'UNKNOWN', 'INVALID_CONTROLLER', 'TF_ERROR', 'INVALID_PATH', 'PATIENCE_EXCEEDED',
        'FAILED_TO_MAKE_PROGRESS', 'NO_VALID_CONTROL', 'CONTROLLER_TIMED_OUT'))},
    **{200 + i: ('ComputePathToPose', name) for i, name in enumerate((
        'UNKNOWN', 'INVALID_PLANNER', 'TF_ERROR', 'START_OUTSIDE_MAP', 'GOAL_OUTSIDE_MAP', 'START_OCCUPIED',
        'GOAL_OCCUPIED', 'TIMEOUT', 'NO_VALID_PATH'))},
    **{500 + i: ('SmoothPath', name) for i, name in enumerate((
        'UNKNOWN', 'INVALID_SMOOTHER', 'TIMEOUT', 'SMOOTHED_PATH_IN_COLLISION', 'FAILED_TO_SMOOTH_PATH',
        'INVALID_PATH'))},
    **{700 + i: ('Spin', name) for i, name in enumerate((
        'UNKNOWN', 'TIMEOUT', 'TF_ERROR', 'COLLISION_AHEAD'))},
    **{710 + i: ('BackUp', name) for i, name in enumerate((
        'UNKNOWN', 'TIMEOUT', 'TF_ERROR', 'INVALID_INPUT', 'COLLISION_AHEAD'))},
}
# Nav2 codes that mean the goal itself is unusable (the navigator's INVALID_GOAL: out of bounds).
INVALID_GOAL_CODES = frozenset({204})    # ComputePathToPose GOAL_OUTSIDE_MAP


def nav2_error_text(code: int, message: str) -> str:
    """'Nav2 failed: ComputePathToPose GOAL_OUTSIDE_MAP (204): <message>' for a Nav2 error code."""
    action, name = NAV2_ERRORS.get(code, ('', 'error'))
    what = f'{action} {name}'.strip()
    return f'Nav2 failed: {what} ({code})' + (f': {message}' if message else '')


def heading_error(pose, goal) -> float:
    """Bearing from ``pose`` to ``goal`` (PoseStamped) minus the pose's yaw, rad in (-pi, pi]; 0 when
    their frames differ (no transform here)."""
    if pose.header.frame_id != goal.header.frame_id:
        return 0.0
    p, q = pose.pose.position, pose.pose.orientation
    yaw = yaw_from_quaternion(q.x, q.y, q.z, q.w)
    bearing = math.atan2(goal.pose.position.y - p.y, goal.pose.position.x - p.x)
    return wrap_angle(bearing - yaw)


class Nav2UnavailableError(RuntimeError):
    """backend=nav2 was asked for but nav2_msgs cannot be imported."""


def nav2_action_type():
    """nav2_msgs.action.NavigateToPose, or Nav2UnavailableError."""
    try:
        from nav2_msgs.action import NavigateToPose  # noqa: PLC0415 - nav2_msgs: optional
    except ImportError as error:
        raise Nav2UnavailableError(
            f"backend 'nav2' needs nav2_msgs (ROS 2 Nav2), which cannot be imported ({error}); install Nav2 "
            "and start it with config/nav2_params.yaml, or use backend 'native'") from None
    return NavigateToPose


@dataclass
class _Forwarded:
    """One navigate_to_goal goal on its way through Nav2."""
    handle: object = None             # Nav2's ClientGoalHandle once accepted
    cancel_requested: bool = False
    preempted: bool = False
    distance: float = -1.0            # m, last distance_remaining from Nav2 (-1: none yet)


class Nav2Backend:
    """Forwards goals of ``node`` (an rclpy Node) to Nav2, one at a time: a newer goal preempts the
    running one (Nav2 aborts it; it ends CANCELED, 'preempted by a new goal', as with the native backend).
    ``server_timeout`` (s, wall): how long a goal waits for Nav2's server before FAILED."""

    def __init__(self, node, server_timeout: float = 5.0):
        from rclpy.action import ActionClient  # noqa: PLC0415 - importing this module needs no ROS

        self._node = node
        self._type = nav2_action_type()
        self._client = ActionClient(node, self._type, NAVIGATE_TO_POSE)
        self._server_timeout = server_timeout
        self._goals: dict[int, _Forwarded] = {}   # by id() of the navigator's goal handle
        self._latest: _Forwarded | None = None

    async def navigate(self, key, request, result_type, publish_feedback):
        """Run one goal (``key``: the navigator's goal handle) on Nav2; returns a filled ``result_type``
        (NavigateToGoal.Result). ``publish_feedback(pose, distance m, recoveries, heading_error rad)``."""
        mine = _Forwarded()
        if self._latest is not None:
            self._latest.preempted = True
        self._latest = self._goals[id(key)] = mine
        try:
            return await self._forward(mine, request, result_type, publish_feedback)
        finally:
            del self._goals[id(key)]
            if self._latest is mine:
                self._latest = None

    async def _forward(self, mine: _Forwarded, request, result_type, publish_feedback):
        from action_msgs.msg import GoalStatus  # noqa: PLC0415 - importing this module needs no ROS

        def ended(code: int, message: str):
            return result_type(error_code=code, message=message, final_distance=float(mine.distance))

        if not await server_ready(self._node, self._client, self._server_timeout):
            return ended(result_type.FAILED, f'Nav2 {NAVIGATE_TO_POSE} server not available '
                                             f'after {self._server_timeout:g} s')
        if mine.cancel_requested or mine.preempted:
            return ended(result_type.CANCELED, PREEMPTED if mine.preempted else 'canceled')

        def relay(feedback_msg):
            fb = feedback_msg.feedback
            mine.distance = float(fb.distance_remaining)
            publish_feedback(fb.current_pose, mine.distance, max(0, int(fb.number_of_recoveries)),
                             heading_error(fb.current_pose, request.goal))

        goal = self._type.Goal(pose=request.goal)
        handle = await self._client.send_goal_async(goal, feedback_callback=relay)
        if not handle.accepted:
            return ended(result_type.FAILED, 'Nav2 rejected the goal (are its servers active?)')
        mine.handle = handle
        if mine.cancel_requested:
            handle.cancel_goal_async()
        response = await handle.get_result_async()
        status, nav2 = response.status, response.result
        if mine.preempted and status != GoalStatus.STATUS_SUCCEEDED:
            return ended(result_type.CANCELED, PREEMPTED)
        if status == GoalStatus.STATUS_SUCCEEDED:
            return ended(result_type.SUCCEEDED, 'Nav2 reached the goal')
        if status == GoalStatus.STATUS_CANCELED:
            return ended(result_type.CANCELED, 'canceled' if mine.cancel_requested else
                         'Nav2 canceled the goal (not asked by this navigator)')
        code = int(nav2.error_code)
        failed = result_type.INVALID_GOAL if code in INVALID_GOAL_CODES else result_type.FAILED
        return ended(failed, nav2_error_text(code, nav2.error_msg))

    def cancel(self, key) -> None:
        """Cancel the goal ``key`` (the navigator's goal handle): forwarded to Nav2 once it has it."""
        mine = self._goals.get(id(key))
        if mine is None:
            return
        mine.cancel_requested = True
        if mine.handle is not None:
            mine.handle.cancel_goal_async()
