"""Node ``navigator``: serves ``navigate_to_goal`` (rover_interfaces/action/NavigateToGoal) by planning on
the obstacle grid and following the plan with regulated pure pursuit (docs/navigation.md)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import OccupancyGrid, Odometry, Path
from rclpy.action import ActionServer, CancelResponse
from rclpy.node import Node
from rclpy.task import Future

from rover_interfaces.action import NavigateToGoal
from rover_stack.common.angles import wrap_angle
from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param, watch_params
from rover_stack.common.qos import command_qos
from rover_stack.navigation.costmap import LETHAL, Costmap, CostmapConfig
from rover_stack.navigation.follower import FollowerConfig, PurePursuit
from rover_stack.navigation.goal_checker import GoalChecker
from rover_stack.navigation.nav2_backend import Nav2Backend
from rover_stack.navigation.planner import (
    GOAL_IN_LETHAL,
    START_OFF_GRID,
    NoPathError,
    Plan,
    PlannerConfig,
    path_blocked,
    plan_path,
)
from rover_stack.navigation.stuck import DONE, Recovery, StuckConfig, StuckDetector
from rover_stack.tf.buffer import TransformBuffer, TransformLookupError
from rover_stack.tf.listener import TransformListener
from rover_stack.tf.transform import Transform, quaternion_from_rpy, rpy_from_quaternion

NODE_NAME = 'navigator'
ACTION_NAME = 'navigate_to_goal'
COMMAND_TOPIC = 'autonomy/cmd_vel'
QUATERNION_TOLERANCE = 0.01   # |1 - |q|| above this: odometry orientation is not a rotation
Result = NavigateToGoal.Result


@dataclass
class NavigatorParams:
    backend: str = param('native', 'native: this node plans and drives; nav2: forward goals to Nav2',
                         choices=('native', 'nav2'), read_only=True)
    rate: float = param(10.0, 'Control loop rate', unit='Hz', low=1.0, high=100.0, read_only=True)
    plan_period: float = param(1.0, 'Replan at least this often (also on a blocked path)', unit='s',
                               low=0.05, high=60.0, read_only=True)
    map_frame: str = param('map', 'Global frame (goals from GNSS legs)', read_only=True)
    odom_frame: str = param('odom', 'Odometry frame (the obstacle grid is in it)', read_only=True)
    base_frame: str = param('base_link', 'Frame written in the command header', read_only=True)
    pose_timeout: float = param(0.5, 'odometry/filtered older than this is stale: the rover stops', unit='s',
                                low=0.01, high=10.0, read_only=True)
    grid_timeout: float = param(2.0, 'obstacles/grid older than this is stale: the rover stops', unit='s',
                                low=0.1, high=60.0, read_only=True)
    wait_timeout: float = param(10.0, 'A goal fails after waiting this long for pose, grid or a path',
                                unit='s', low=0.5, high=600.0, read_only=True)
    max_goal_distance: float = param(500.0, 'Goals farther than this from the rover are refused', unit='m',
                                     low=1.0, high=1.0e5, read_only=True)
    xy_tolerance: float = param(0.5, 'Default success radius', unit='m', low=0.01, high=50.0, read_only=True)
    yaw_tolerance: float = param(0.2, 'Heading tolerance when use_heading', unit='rad', low=0.01, high=3.1,
                                 read_only=True)
    # the follower's speeds and lookahead are tuned in the field: writable (ros2 param set), applied at once
    max_speed: float = param(1.0, 'Default and highest forward speed', unit='m/s', low=0.05, high=5.0)
    min_speed: float = param(0.1, 'Lowest forward speed while driving', unit='m/s', low=0.0, high=1.0)
    max_angular: float = param(1.0, 'Highest turn rate', unit='rad/s', low=0.1, high=5.0)
    lookahead_time: float = param(1.5, 'Lookahead distance = this x speed', unit='s', low=0.0, high=10.0)
    min_lookahead: float = param(0.6, 'Shortest lookahead', unit='m', low=0.1, high=10.0)
    max_lookahead: float = param(2.0, 'Longest lookahead', unit='m', low=0.1, high=20.0)
    regulated_min_radius: float = param(1.0, 'Slow down on turns tighter than this', unit='m', low=0.0,
                                        high=20.0)
    approach_distance: float = param(1.5, 'Slow down this close to the goal', unit='m', low=0.0, high=20.0)
    cost_slowdown: float = param(0.6, 'Speed factor 1 - this x cost near obstacles', low=0.0, high=1.0)
    rotate_threshold: float = param(0.8, 'Turn in place when the path is more than this off the heading',
                                    unit='rad', low=0.1, high=3.2, read_only=True)
    rotate_gain: float = param(2.0, 'Turn-in-place rate per rad of heading error', unit='1/s', low=0.1,
                               high=20.0, read_only=True)
    robot_radius: float = param(0.6, 'Cells closer than this to an obstacle are lethal', unit='m', low=0.0,
                                high=5.0, read_only=True)
    inflation_radius: float = param(1.2, 'Obstacle cost falls to zero at this distance', unit='m', low=0.0,
                                    high=10.0, read_only=True)
    cost_decay: float = param(3.0, 'Exponential decay of the inflation cost', unit='1/m', low=0.0, high=100.0,
                              read_only=True)
    unknown_cost: float = param(0.2, 'Cost of unknown cells (1 = never enter)', low=0.0, high=1.0,
                                read_only=True)
    occupied_threshold: int = param(100, 'Grid values at or above this are obstacles', low=1, high=100,
                                    read_only=True)
    cost_weight: float = param(10.0, 'Path step cost = length x (1 + cost_weight x cost)', low=0.0,
                               high=1000.0, read_only=True)
    max_search_cells: int = param(160000, 'Larger grids are searched coarse first', low=100, high=100000000,
                                  read_only=True)
    goal_relocation_radius: float = param(0.5, 'A goal in an obstacle margin is replaced by the nearest free '
                                               'cell this close to it (0: the goal waits, then fails)',
                                          unit='m', low=0.0, high=5.0, read_only=True)
    start_escape_radius: float = param(0.5, 'A rover inside an obstacle margin leaves it through the nearest '
                                            'free cell this close (0: no path, recovery instead)',
                                       unit='m', low=0.0, high=5.0, read_only=True)
    stuck_time: float = param(6.0, 'No progress for this long while driving = stuck', unit='s', low=0.5,
                              high=120.0, read_only=True)
    progress_distance: float = param(0.3, 'Movement that counts as progress', unit='m', low=0.01, high=10.0,
                                     read_only=True)
    backup_distance: float = param(0.5, 'Recovery: reverse this far', unit='m', low=0.0, high=5.0,
                                   read_only=True)
    backup_speed: float = param(0.25, 'Recovery: reversing speed', unit='m/s', low=0.01, high=2.0,
                                read_only=True)
    turn_angle: float = param(0.8, 'Recovery: turn in place this far', unit='rad', low=0.0, high=6.3,
                              read_only=True)
    turn_speed: float = param(0.6, 'Recovery: turn rate', unit='rad/s', low=0.01, high=5.0, read_only=True)
    max_recoveries: int = param(3, 'Recoveries per goal before it fails', low=0, high=100, read_only=True)


def follower_config(p: NavigatorParams) -> FollowerConfig:
    return FollowerConfig(p.max_speed, min(p.min_speed, p.max_speed), p.max_angular, p.lookahead_time,
                          p.min_lookahead, max(p.max_lookahead, p.min_lookahead), p.regulated_min_radius,
                          p.approach_distance, p.cost_slowdown, p.rotate_threshold, p.rotate_gain)


@dataclass
class _ActiveGoal:
    handle: object
    done: Future
    request: object
    tolerance: float
    max_speed: float
    checker: GoalChecker
    plan: Plan | None = None
    plan_time: float = -math.inf
    plan_frame: str = ''
    waiting_since: float | None = None
    distance: float = math.nan


class NavigatorNode(Node):
    """Drives the rover to one goal at a time; a new goal preempts the running one.

    Action server ``navigate_to_goal`` (rover_interfaces/action/NavigateToGoal): goal pose in ``map_frame``,
    ``odom_frame`` or any frame on ``tf``; tolerance (m) and max_speed (m/s), 0 = defaults. Results:
    SUCCEEDED; FAILED (no path, stuck after ``max_recoveries``, pose/grid missing for ``wait_timeout``);
    CANCELED (cancel, or preempted by a newer goal); INVALID_GOAL (unknown frame, non-finite values,
    farther than ``max_goal_distance``). Feedback each cycle: pose (planning frame), distance remaining (m),
    heading error (rad), recoveries.

    Subscribes: ``odometry/filtered`` (nav_msgs/Odometry, pose in ``map_frame``), ``obstacles/grid``
    (nav_msgs/OccupancyGrid, axis-aligned, normally in ``odom_frame``; its frame is the planning frame),
    ``tf``/``tf_static``.
    Publishes: ``autonomy/cmd_vel`` (geometry_msgs/TwistStamped, ``base_frame``, the autonomy source of
    cmd_arbitration; only while a goal runs, zero on finish/cancel/abort and while pose or grid is stale
    or unusable, e.g. NaN or not a unit quaternion), ``plan`` (nav_msgs/Path in the grid frame; empty
    when no goal runs).
    Parameters: ``NavigatorParams`` (all read-only; units in their descriptions).
    """

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_params(self, NavigatorParams)
        try:
            self._costmap_config = CostmapConfig(p.robot_radius, max(p.inflation_radius, p.robot_radius),
                                                 p.cost_decay, p.unknown_cost, p.occupied_threshold)
            self._follower = PurePursuit(follower_config(p))
            self._planner_config = PlannerConfig(cost_weight=p.cost_weight,
                                                 max_search_cells=p.max_search_cells,
                                                 goal_relocation_radius=p.goal_relocation_radius,
                                                 start_escape_radius=p.start_escape_radius)
            stuck = StuckConfig(
                p.stuck_time, p.progress_distance, p.backup_distance, p.backup_speed,
                max(2.0, 3.0 * p.backup_distance / p.backup_speed), p.turn_angle, p.turn_speed,
                max(2.0, 3.0 * p.turn_angle / p.turn_speed), p.max_recoveries)
            self._nav2 = None
            if p.backend == 'nav2':
                self._nav2 = Nav2Backend(self, server_timeout=p.wait_timeout)
        except (ValueError, RuntimeError) as error:
            Node.destroy_node(self)
            raise ValueError(f'{NODE_NAME}: {error}') from None
        self._stuck = StuckDetector(stuck)
        watch_params(self, NavigatorParams, self._retune)
        self._recovery = Recovery(stuck)
        self._goal: _ActiveGoal | None = None
        self._odom: Odometry | None = None
        self._odom_time = -math.inf
        self._grid: OccupancyGrid | None = None
        self._grid_time = -math.inf
        self._costmap: Costmap | None = None
        self._costmap_error = ''
        self.tf_buffer = TransformBuffer()
        self.tf_listener = TransformListener(self, self.tf_buffer)
        self._cmd_pub = self.create_publisher(TwistStamped, COMMAND_TOPIC, command_qos())
        self._plan_pub = self.create_publisher(Path, 'plan', command_qos(depth=1))
        self.create_subscription(Odometry, 'odometry/filtered', self._on_odom, command_qos())
        self.create_subscription(OccupancyGrid, 'obstacles/grid', self._on_grid, command_qos(depth=2))
        self._action = ActionServer(self, NavigateToGoal, ACTION_NAME, self._execute,
                                    cancel_callback=self._on_cancel)
        self.create_timer(1.0 / p.rate, self._step)

    # ------------------------------------------------------------------ callbacks: store only
    def _on_odom(self, msg: Odometry) -> None:
        self._odom, self._odom_time = msg, self._now()

    def _on_grid(self, msg: OccupancyGrid) -> None:
        self._grid, self._grid_time, self._costmap = msg, self._now(), None

    def _on_cancel(self, goal_handle) -> CancelResponse:
        if self._nav2 is not None:
            self._nav2.cancel(goal_handle)
        return CancelResponse.ACCEPT

    @property
    def localized(self) -> bool:
        """True while odometry/filtered is fresh."""
        return self._odom is not None and self._now() - self._odom_time <= self.params.pose_timeout

    def _retune(self, new: NavigatorParams) -> None:
        """``ros2 param set`` of the follower's speeds and lookahead: the running goal follows at once."""
        self._follower.config = follower_config(new)
        if self._goal is not None:
            requested = self._goal.request.max_speed
            self._goal.max_speed = min(requested, new.max_speed) if requested > 0.0 else new.max_speed

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # ------------------------------------------------------------------ goals
    async def _execute(self, goal_handle):
        request = goal_handle.request
        error = self._validate(request)
        if error:
            self.get_logger().warning(f'invalid goal: {error}')
            goal_handle.abort()
            return Result(error_code=Result.INVALID_GOAL, message=error, final_distance=math.nan)
        if self._goal is not None:
            self._finish(Result.CANCELED, 'preempted by a new goal')
        if self._nav2 is not None:
            return await self._execute_nav2(goal_handle)
        p = self.params
        tolerance = request.tolerance if request.tolerance > 0.0 else p.xy_tolerance
        max_speed = min(request.max_speed, p.max_speed) if request.max_speed > 0.0 else p.max_speed
        goal = _ActiveGoal(goal_handle, Future(), request, tolerance, max_speed,
                           GoalChecker(tolerance, p.yaw_tolerance, request.use_heading))
        self._goal = goal
        self._stuck.reset()
        self._recovery.reset()
        position = request.goal.pose.position
        self.get_logger().info(
            f'goal ({position.x:.2f}, {position.y:.2f}) in {request.goal.header.frame_id}, '
            f'tolerance {tolerance:.2f} m, max speed {max_speed:.2f} m/s')
        return await goal.done

    async def _execute_nav2(self, goal_handle):
        def feedback(pose, distance, recoveries, heading_error):
            goal_handle.publish_feedback(NavigateToGoal.Feedback(
                current_pose=pose, distance_remaining=float(distance), heading_error=float(heading_error),
                recoveries=int(recoveries)))

        result = await self._nav2.navigate(goal_handle, goal_handle.request, Result, feedback)
        if result.error_code == Result.SUCCEEDED:
            goal_handle.succeed()
        elif result.error_code == Result.CANCELED and goal_handle.is_cancel_requested:
            goal_handle.canceled()
        else:   # preempted, or Nav2 cancelled on its own: CANCELED with action status ABORTED, as natively
            goal_handle.abort()
        return result

    def _validate(self, request) -> str:
        """Why the goal is invalid, or ''."""
        goal = request.goal
        frame = goal.header.frame_id
        p, q = goal.pose.position, goal.pose.orientation
        numbers = (p.x, p.y, p.z, q.x, q.y, q.z, q.w, request.tolerance, request.max_speed)
        if not all(math.isfinite(v) for v in numbers):
            return 'goal has non-finite values'
        if request.tolerance < 0.0 or request.max_speed < 0.0:
            return 'tolerance and max_speed must be >= 0'
        if request.use_heading and math.hypot(q.x, q.y, q.z, q.w) < 1e-6:
            return 'use_heading with a zero quaternion'
        if not frame:
            return 'goal has no frame_id'
        known = (self.params.map_frame, self.params.odom_frame, *self.tf_buffer.frames())
        if frame not in known:
            return f"unknown goal frame '{frame}'"
        if self._odom is not None:
            odom_frame = self._odom.header.frame_id
            try:
                to_pose_frame = self._transform(odom_frame, frame)
            except TransformLookupError:
                return ''   # frames known but not connected yet: the control loop waits for them
            gx, gy, _ = to_pose_frame.apply([p.x, p.y, p.z])
            here = self._odom.pose.pose.position
            distance = math.hypot(gx - here.x, gy - here.y)
            limit = self.params.max_goal_distance
            if distance > limit:
                return f'goal is {distance:.0f} m away, more than max_goal_distance {limit:.0f} m'
        return ''

    def _finish(self, code: int, message: str) -> None:
        """End the running goal with ``code``; always stops the rover."""
        goal = self._goal
        self._goal = None
        self._publish_command(0.0, 0.0)
        self._plan_pub.publish(Path(header=self._header(goal.plan_frame if goal else '')))
        if goal is None:
            return
        handle = goal.handle
        if code == Result.SUCCEEDED:
            handle.succeed()
        elif code == Result.CANCELED and handle.is_cancel_requested:
            handle.canceled()
        else:
            handle.abort()
        # One call site per severity: rclpy refuses a call site whose severity changes between calls
        # ("Logger severity cannot be changed between calls"), which ended the navigator.
        text = f'goal ended ({_CODE_NAMES[code]}): {message}'
        if code in (Result.SUCCEEDED, Result.CANCELED):
            self.get_logger().info(text)
        else:
            self.get_logger().warning(text)
        final = float(goal.distance) if math.isfinite(goal.distance) else -1.0
        goal.done.set_result(Result(error_code=code, message=message, final_distance=final))

    # ------------------------------------------------------------------ control loop
    def _step(self) -> None:
        goal = self._goal
        if goal is None:
            return
        if goal.handle.is_cancel_requested:
            self._finish(Result.CANCELED, 'canceled')
            return
        now = self._now()
        situation = self._situation(goal, now)
        if isinstance(situation, str):
            self._wait(goal, now, situation)
            return
        costmap, pose, speed, target = situation
        x, y, yaw = pose
        goal.distance = math.hypot(target[0] - x, target[1] - y)
        self._feedback(goal, costmap.frame_id, pose, target)
        plan = goal.plan
        relocated = plan is not None and plan.relocated   # goal in an obstacle margin: judge at the stand-in
        aim = (plan.target[0], plan.target[1], target[2]) if relocated else target
        if goal.checker.check(pose, aim):
            self._finish(Result.SUCCEEDED, (
                f'reached the free point {math.dist(aim[:2], target[:2]):.2f} m from the goal, which is too '
                f'close to an obstacle ({goal.distance:.2f} m from the goal)') if relocated
                else f'reached the goal ({goal.distance:.2f} m from it)')
            return
        if goal.checker.xy_reached:   # heading phase: turn in place
            error = wrap_angle(target[2] - yaw)
            rate = min(self.params.max_angular, abs(self.params.rotate_gain * error))
            self._publish_command(0.0, math.copysign(max(0.2, rate), error))
            return
        if self._recovery.active:
            v, w = self._recovery.step(now, x, y, yaw)
            if self._recovery.state == DONE:
                goal.plan = None          # re-plan after the recovery
                self._stuck.reset()
            self._publish_command(v, w)
            return
        if not self._ensure_plan(goal, costmap, now, pose, target):
            return
        cmd = self._follower.step(x, y, yaw, speed, max_speed=goal.max_speed,
                                  cost_at=lambda px, py: float(costmap.cost_at(px, py)),
                                  end_is_goal=not goal.plan.clipped)
        goal.waiting_since = None
        if self._stuck.update(now, x, y, goal.distance, commanding_motion=cmd.v > 0.05):
            self._start_recovery(goal, costmap, now, pose,
                                 f'no progress for {self._stuck.config.stuck_time:.0f} s')
            return
        self._publish_command(cmd.v, cmd.w)

    def _situation(self, goal: _ActiveGoal, now: float):
        """(costmap, rover (x, y, yaw), speed, goal (x, y, yaw)) in the planning frame, or why not."""
        p = self.params
        if not self.localized:
            return 'localization (odometry/filtered) is stale'
        if self._grid is None or now - self._grid_time > p.grid_timeout:
            return 'obstacle grid (obstacles/grid) is stale'
        costmap = self._current_costmap()
        if costmap is None:
            return f'obstacle grid unusable: {self._costmap_error}'
        frame = costmap.frame_id
        odom = self._odom
        try:
            to_plan = self._transform(frame, odom.header.frame_id)
            goal_to_plan = self._transform(frame, goal.request.goal.header.frame_id)
        except TransformLookupError as error:
            return f'transform unavailable: {error}'
        pose = odom.pose.pose
        norm = math.hypot(*_quat(pose.orientation))
        if not abs(norm - 1.0) <= QUATERNION_TOLERANCE:   # also NaN
            return f'odometry orientation is not a unit quaternion (norm {norm:.3g})'
        x, y, _ = to_plan.apply([pose.position.x, pose.position.y, pose.position.z])
        yaw = rpy_from_quaternion(_quat(pose.orientation))[2] + to_plan.rpy()[2]
        target = goal.request.goal.pose
        gx, gy, _ = goal_to_plan.apply([target.position.x, target.position.y, target.position.z])
        q = target.orientation
        gyaw = (rpy_from_quaternion(_quat(q))[2] if math.hypot(q.x, q.y, q.z, q.w) > 1e-6 else 0.0) \
            + goal_to_plan.rpy()[2]
        values = (x, y, yaw, gx, gy, gyaw)
        if not all(math.isfinite(v) for v in values):
            return 'non-finite pose'
        speed = odom.twist.twist.linear.x
        speed = speed if math.isfinite(speed) else 0.0
        return costmap, (float(x), float(y), wrap_angle(yaw)), speed, (float(gx), float(gy), wrap_angle(gyaw))

    def _ensure_plan(self, goal: _ActiveGoal, costmap: Costmap, now: float, pose, target) -> bool:
        """Plan when due or blocked; False when the cycle is handled (waiting, recovery or failure)."""
        due = goal.plan is None or now - goal.plan_time >= self.params.plan_period
        if not due and not path_blocked(costmap, self._follower.remaining_path()):
            return True
        try:
            plan = plan_path(costmap, pose[:2], target[:2], self._planner_config)
        except NoPathError as error:
            goal.plan = None
            if error.reason in (GOAL_IN_LETHAL, START_OFF_GRID):
                self._wait(goal, now, f'no path: {error}')
            else:
                self._start_recovery(goal, costmap, now, pose, f'no path: {error}')
            return False
        goal.plan, goal.plan_time = plan, now
        goal.plan_frame = costmap.frame_id
        self._follower.set_path(plan.points)
        self._publish_plan(plan, costmap.frame_id)
        return True

    def _start_recovery(self, goal: _ActiveGoal, costmap: Costmap, now: float, pose, why: str) -> None:
        x, y, yaw = pose
        if self._recovery.exhausted:
            self._finish(Result.FAILED, f'{why}; {self._recovery.count} recoveries did not help')
            return
        behind = (x - 0.6 * math.cos(yaw), y - 0.6 * math.sin(yaw))
        rear_blocked = float(costmap.cost_at(*behind)) >= LETHAL
        self._recovery.start(now, x, y, yaw, rear_blocked=rear_blocked)
        self.get_logger().warning(
            f'{why}: recovery {self._recovery.count} of {self._recovery.config.max_recoveries}')
        self._publish_command(*self._recovery.step(now, x, y, yaw))

    def _wait(self, goal: _ActiveGoal, now: float, reason: str) -> None:
        """Stop and wait; the goal fails if the wait lasts ``wait_timeout``."""
        self._publish_command(0.0, 0.0)
        self._stuck.reset()
        if goal.waiting_since is None:
            goal.waiting_since = now
            self.get_logger().warning(f'waiting: {reason}')
        elif now - goal.waiting_since >= self.params.wait_timeout:
            self._finish(Result.FAILED, f'{reason} (waited {self.params.wait_timeout:.0f} s)')

    def _current_costmap(self) -> Costmap | None:
        if self._costmap is None and self._grid is not None:
            grid = self._grid
            info = grid.info
            o = info.origin
            try:
                if not grid.header.frame_id:
                    raise ValueError('grid has no frame_id')
                if abs(rpy_from_quaternion(_quat(o.orientation))[2]) > 1e-3:
                    raise ValueError('rotated grid origins are not supported')
                self._costmap = Costmap.from_occupancy(
                    grid.data, (info.width, info.height), info.resolution, (o.position.x, o.position.y),
                    config=self._costmap_config, frame_id=grid.header.frame_id)
                self._costmap_error = ''
            except ValueError as error:
                self._costmap_error = str(error)
                self._grid = None
        return self._costmap

    def _transform(self, target: str, source: str) -> Transform:
        return Transform.identity() if target == source else self.tf_buffer.lookup(target, source)

    # ------------------------------------------------------------------ output
    def _header(self, frame: str):
        header = PoseStamped().header
        header.stamp = self.get_clock().now().to_msg()
        header.frame_id = frame
        return header

    def _publish_command(self, v: float, w: float) -> None:
        msg = TwistStamped(header=self._header(self.params.base_frame))
        msg.twist.linear.x = float(v) if math.isfinite(v) else 0.0
        msg.twist.angular.z = float(w) if math.isfinite(w) else 0.0
        self._cmd_pub.publish(msg)

    def _publish_plan(self, plan: Plan, frame: str) -> None:
        msg = Path(header=self._header(frame))
        points = plan.points
        headings = np.arctan2(np.diff(points[:, 1]), np.diff(points[:, 0]))
        headings = np.append(headings, headings[-1] if len(headings) else 0.0)
        for (px, py), heading in zip(points, headings, strict=True):
            pose = PoseStamped(header=msg.header)
            pose.pose.position.x, pose.pose.position.y = float(px), float(py)
            qx, qy, qz, qw = quaternion_from_rpy(0.0, 0.0, float(heading))
            pose.pose.orientation.x, pose.pose.orientation.y = float(qx), float(qy)
            pose.pose.orientation.z, pose.pose.orientation.w = float(qz), float(qw)
            msg.poses.append(pose)
        self._plan_pub.publish(msg)

    def _feedback(self, goal: _ActiveGoal, frame: str, pose, target) -> None:
        x, y, yaw = pose
        stamped = PoseStamped(header=self._header(frame))
        stamped.pose.position.x, stamped.pose.position.y = x, y
        qx, qy, qz, qw = quaternion_from_rpy(0.0, 0.0, yaw)
        stamped.pose.orientation.x, stamped.pose.orientation.y = float(qx), float(qy)
        stamped.pose.orientation.z, stamped.pose.orientation.w = float(qz), float(qw)
        bearing = math.atan2(target[1] - y, target[0] - x)
        goal.handle.publish_feedback(NavigateToGoal.Feedback(
            current_pose=stamped, distance_remaining=goal.distance, heading_error=wrap_angle(bearing - yaw),
            recoveries=self._recovery.count))

    def destroy_node(self) -> None:
        if self._goal is not None and self.context.ok():   # after Ctrl-C the context is gone: nothing to send
            self._finish(Result.FAILED, 'navigator shutting down')
        self._action.destroy()
        super().destroy_node()


_CODE_NAMES = {getattr(Result, name.upper()): name
               for name in ('succeeded', 'failed', 'canceled', 'invalid_goal')}


def _quat(q) -> tuple[float, float, float, float]:
    return (q.x, q.y, q.z, q.w)


def main(args=None) -> int:
    return run_node(NavigatorNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
