"""Node ``gps_waypoint_follower``: Nav2's ``follow_gps_waypoints`` action as a GNSS-only mission.

A thin adapter for tools that speak Nav2 (nav2_simple_commander's ``followGpsWaypoints``, Nav2 panels): each
goal's gps_poses become an ExecuteMission goal of gnss legs (gps_waypoints.py) on the mission executive,
which drives them with the navigator (native or Nav2 backend). Needs nav2_msgs and geographic_msgs.

Action server: ``follow_gps_waypoints`` (nav2_msgs/action/FollowGPSWaypoints): goal_index -> the first leg,
number_of_loops -> the list repeated; feedback current_waypoint; result missed_waypoints (map frame) and
error_code NONE (every leg reached), UNKNOWN (some missed: error_msg says why) or TASK_EXECUTOR_FAILED (the
mission executive refused or is absent). Cancel is forwarded.
Action client: ``execute_mission`` (rover_interfaces/action/ExecuteMission).
Subscribes: ``datum`` (sensor_msgs/NavSatFix, latched; the EKF's map origin, as the executive uses it).
Parameters: ``GpsWaypointParams`` (config/mission.yaml, all read-only).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from geometry_msgs.msg import PoseStamped
from rclpy.action import ActionClient, ActionServer, CancelResponse
from rclpy.node import Node
from sensor_msgs.msg import NavSatFix

from rover_interfaces.action import ExecuteMission
from rover_interfaces.msg import LegOutcome
from rover_stack.autonomy.gps_waypoints import gnss_mission, missed_waypoints, waypoint_index
from rover_stack.common.actions import server_ready
from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param
from rover_stack.common.qos import latched_qos

NODE_NAME = 'gps_waypoint_follower'
ACTION_NAME = 'follow_gps_waypoints'


@dataclass
class GpsWaypointParams:
    tolerance: float = param(3.0, 'Arrival radius of each waypoint (the gnss legs\' tolerance)', unit='m',
                             low=0.1, high=100.0, read_only=True)
    server_timeout: float = param(10.0, 'Wait this long for execute_mission before the goal fails',
                                  unit='s', low=0.1, high=300.0, read_only=True)
    map_frame: str = param('map', 'Frame of the missed waypoints\' poses', read_only=True)


def follow_gps_type():
    """nav2_msgs.action.FollowGPSWaypoints, or a RuntimeError saying what is missing."""
    try:
        from nav2_msgs.action import FollowGPSWaypoints  # noqa: PLC0415 - nav2_msgs: optional
    except ImportError as error:
        raise RuntimeError(f'{NODE_NAME} needs nav2_msgs and geographic_msgs ({error})') from None
    return FollowGPSWaypoints


class GpsWaypointFollowerNode(Node):
    """follow_gps_waypoints -> execute_mission (see the module docstring)."""

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        try:
            self.params = declare_params(self, GpsWaypointParams)
            self._type = follow_gps_type()
        except (ValueError, RuntimeError) as error:
            Node.destroy_node(self)
            raise ValueError(f'{NODE_NAME}: {error}') from None
        self._datum: tuple[float, float, float] | None = None
        self._missions: dict[int, object] = {}    # id(our goal handle) -> the executive's goal handle
        self._canceled: set[int] = set()
        self.create_subscription(NavSatFix, 'datum', self._on_datum, latched_qos())
        self._client = ActionClient(self, ExecuteMission, 'execute_mission')
        self._server = ActionServer(self, self._type, ACTION_NAME, self._execute,
                                    cancel_callback=self._on_cancel)

    def _on_datum(self, msg: NavSatFix) -> None:
        if math.isfinite(msg.latitude) and math.isfinite(msg.longitude):
            self._datum = (msg.latitude, msg.longitude, msg.altitude)

    def _on_cancel(self, handle) -> CancelResponse:
        self._canceled.add(id(handle))
        mission = self._missions.get(id(handle))
        if mission is not None:
            mission.cancel_goal_async()
        return CancelResponse.ACCEPT

    async def _execute(self, handle):
        result_type = self._type.Result
        request = handle.request
        points = [(p.position.latitude, p.position.longitude, p.position.altitude) for p in request.gps_poses]
        try:
            mission, text = gnss_mission(points, self._datum, int(request.number_of_loops),
                                         self.params.tolerance)
            if request.goal_index >= len(mission.legs):
                raise ValueError(f'goal_index {request.goal_index} is past the last waypoint')
        except ValueError as error:   # MissionError too
            self.get_logger().warning(f'refused: {error}')
            handle.abort()
            return result_type(error_code=result_type.UNKNOWN, error_msg=str(error))
        try:
            return await self._run(handle, mission, text, len(points))
        finally:
            self._missions.pop(id(handle), None)
            self._canceled.discard(id(handle))

    async def _run(self, handle, mission, text: str, count: int):
        result_type = self._type.Result
        if not await server_ready(self, self._client, self.params.server_timeout):
            handle.abort()
            return result_type(error_code=result_type.TASK_EXECUTOR_FAILED,
                               error_msg='execute_mission is not available')

        def relay(msg):
            handle.publish_feedback(self._type.Feedback(
                current_waypoint=waypoint_index(msg.feedback.leg_index, count)))

        goal = ExecuteMission.Goal(mission_yaml=text, start_leg=int(handle.request.goal_index))
        sent = await self._client.send_goal_async(goal, feedback_callback=relay)
        if not sent.accepted:
            handle.abort()
            return result_type(error_code=result_type.TASK_EXECUTOR_FAILED,
                               error_msg='the mission executive refused')
        self._missions[id(handle)] = sent
        if id(handle) in self._canceled:
            sent.cancel_goal_async()
        done = (await sent.get_result_async()).result
        outcomes = [(leg.leg_index, leg.outcome == LegOutcome.SUCCEEDED) for leg in done.legs
                    if leg.leg_index >= handle.request.goal_index]
        result = result_type(missed_waypoints=[self._missed(i, x, y) for i, x, y in
                                          missed_waypoints(outcomes, mission, count)])
        if done.success:
            handle.succeed()
        elif handle.is_cancel_requested:
            handle.canceled()
        else:
            result.error_code, result.error_msg = result_type.UNKNOWN, done.message or 'the mission failed'
            handle.abort()
        return result

    def _missed(self, index: int, x: float, y: float):
        from nav2_msgs.msg import MissedWaypoint  # noqa: PLC0415 - nav2_msgs: optional

        pose = PoseStamped()
        pose.header.frame_id = self.params.map_frame
        pose.pose.position.x, pose.pose.position.y = x, y
        pose.pose.orientation.w = 1.0
        return MissedWaypoint(index=index, goal=pose, error_code=self._type.Result.UNKNOWN)


def main(args=None) -> int:
    return run_node(GpsWaypointFollowerNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
