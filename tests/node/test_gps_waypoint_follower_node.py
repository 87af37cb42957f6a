"""gps_waypoint_follower: Nav2's follow_gps_waypoints (real nav2_msgs/geographic_msgs types) becomes an
ExecuteMission of gnss legs on a mission executive stand-in; feedback, missed waypoints and cancel."""
import pytest
import rclpy
from action_msgs.msg import GoalStatus
from rclpy.action import ActionClient, ActionServer, CancelResponse
from rclpy.executors import SingleThreadedExecutor
from rclpy.task import Future
from sensor_msgs.msg import NavSatFix

from rover_interfaces.action import ExecuteMission
from rover_interfaces.msg import LegOutcome
from rover_stack.autonomy.mission import load_mission
from rover_stack.common.qos import latched_qos
from rover_stack.testing.waiting import spin_until

try:
    from geographic_msgs.msg import GeoPose
    from nav2_msgs.action import FollowGPSWaypoints

    from rover_stack.autonomy.gps_waypoint_follower_node import ACTION_NAME, GpsWaypointFollowerNode
except ImportError:       # conftest: fails under make test, skips (with the reason) elsewhere
    pass

pytestmark = pytest.mark.nav2
DATUM = (38.4064, -110.7919, 1340.0)
POINTS = [(38.4060, -110.7925), (38.4065, -110.7915), (38.4069, -110.7914)]


class FakeExecutive(rclpy.node.Node):
    """execute_mission: records the goal, sends one feedback (leg 1), ends with the outcomes the test
    gives to ``finish``, or CANCELED on a cancel request."""

    def __init__(self, context):
        super().__init__('mission_executive', context=context)
        self.goals = []
        self.cancels = 0
        self._outcome: Future | None = None
        self._datum = self.create_publisher(NavSatFix, 'datum', latched_qos())
        self._datum.publish(NavSatFix(latitude=DATUM[0], longitude=DATUM[1], altitude=DATUM[2]))
        self._server = ActionServer(self, ExecuteMission, 'execute_mission', self._execute,
                                    cancel_callback=self._on_cancel)

    async def _execute(self, handle):
        self.goals.append(handle.request)
        self._outcome = Future()
        handle.publish_feedback(ExecuteMission.Feedback(leg_index=4, leg_count=6, leg_kind='gnss'))
        legs = await self._outcome
        if legs is None:
            handle.canceled()
            return ExecuteMission.Result(success=False, message='canceled')
        success = all(o == LegOutcome.SUCCEEDED for o in legs)
        handle.succeed() if success else handle.abort()
        return ExecuteMission.Result(
            success=success, message='' if success else 'leg 3 timed out',
            legs=[LegOutcome(leg_index=i, leg_kind='gnss', outcome=o) for i, o in enumerate(legs)])

    def _on_cancel(self, _handle):
        self.cancels += 1
        self._outcome.set_result(None)
        return CancelResponse.ACCEPT

    def finish(self, outcomes):
        self._outcome.set_result(outcomes)


@pytest.fixture
def setup(ros_context):
    follower = GpsWaypointFollowerNode(context=ros_context)
    executive = FakeExecutive(ros_context)
    client_node = rclpy.create_node('gps_client', context=ros_context)
    client = ActionClient(client_node, FollowGPSWaypoints, ACTION_NAME)
    executor = SingleThreadedExecutor(context=ros_context)
    for node in (follower, executive, client_node):
        executor.add_node(node)
    spin_until(executor, client.server_is_ready, 20.0, 'follow_gps_waypoints server')
    spin_until(executor, lambda: follower._datum is not None, 20.0, 'the datum at the follower')
    try:
        yield executor, executive, client
    finally:
        executor.shutdown()
        for node in (client_node, executive, follower):
            node.destroy_node()


def request(points=POINTS, loops=1, start=0):
    goal = FollowGPSWaypoints.Goal(number_of_loops=loops, goal_index=start)
    for lat, lon in points:
        pose = GeoPose()
        pose.position.latitude, pose.position.longitude = lat, lon
        pose.orientation.w = 1.0
        goal.gps_poses.append(pose)
    return goal


def send(executor, client, goal, feedback=None):
    future = client.send_goal_async(goal, feedback_callback=feedback)
    spin_until(executor, future.done, 20.0, 'goal response')
    return future.result()


def outcome(executor, handle):
    future = handle.get_result_async()
    spin_until(executor, future.done, 20.0, 'result')
    return future.result().status, future.result().result


def test_waypoints_run_as_a_gnss_mission_and_missed_ones_are_reported(setup):
    executor, executive, client = setup
    feedback = []
    handle = send(executor, client, request(start=1), lambda m: feedback.append(m.feedback))
    spin_until(executor, lambda: executive.goals and feedback, 20.0, 'the mission and its feedback')
    sent = executive.goals[0]
    mission = load_mission(sent.mission_yaml)
    assert sent.start_leg == 1 and not sent.mission_file
    assert [(leg.kind, leg.latitude, leg.longitude) for leg in mission.legs] == \
        [('gnss', lat, lon) for _ in range(2) for lat, lon in POINTS]
    assert (mission.datum.latitude, mission.datum.longitude) == DATUM[:2]   # the localization datum
    assert feedback[0].current_waypoint == 1                                # leg 4 = waypoint 1, 2nd loop
    ok, timed_out = LegOutcome.SUCCEEDED, LegOutcome.TIMED_OUT
    executive.finish([LegOutcome.PENDING, ok, ok, timed_out, ok, ok])       # leg 0 before start_leg
    status, result = outcome(executor, handle)
    assert status == GoalStatus.STATUS_ABORTED
    assert (result.error_code, result.error_msg) == (FollowGPSWaypoints.Result.UNKNOWN, 'leg 3 timed out')
    (missed,) = result.missed_waypoints
    assert missed.index == 0 and missed.goal.header.frame_id == 'map'
    x, y = mission.to_local()[3]
    assert (missed.goal.pose.position.x, missed.goal.pose.position.y) == pytest.approx((x, y))


def test_all_reached_succeeds(setup):
    executor, executive, client = setup
    handle = send(executor, client, request(loops=0))
    spin_until(executor, lambda: executive.goals, 20.0, 'the mission')
    executive.finish([LegOutcome.SUCCEEDED] * 3)
    status, result = outcome(executor, handle)
    assert (status, result.error_code, list(result.missed_waypoints)) == (GoalStatus.STATUS_SUCCEEDED, 0, [])


def test_cancel_is_forwarded_to_the_mission(setup):
    executor, executive, client = setup
    handle = send(executor, client, request())
    spin_until(executor, lambda: executive.goals, 20.0, 'the mission')
    cancel = handle.cancel_goal_async()
    spin_until(executor, cancel.done, 20.0, 'cancel response')
    status, _ = outcome(executor, handle)
    assert status == GoalStatus.STATUS_CANCELED and executive.cancels == 1


@pytest.mark.parametrize('goal', [
    lambda: request(points=[]), lambda: request(points=[(float('nan'), 0.0)]), lambda: request(start=6)])
def test_bad_input_is_refused_without_a_mission(setup, goal):
    executor, executive, client = setup
    status, result = outcome(executor, send(executor, client, goal()))
    assert status == GoalStatus.STATUS_ABORTED and result.error_msg
    assert executive.goals == []
