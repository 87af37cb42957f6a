"""Node ``mission_executive``: runs URC-style missions with the pure Executive (executive.py)."""
from __future__ import annotations

import collections
import dataclasses
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import rclpy
from nav_msgs.msg import Odometry
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.task import Future
from sensor_msgs.msg import NavSatFix
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger

from rover_interfaces.action import ExecuteMission, NavigateToGoal
from rover_interfaces.msg import GateDetection, LegOutcome, MarkerDetectionArray, MissionStatus, StatusLight
from rover_stack.autonomy import persistence
from rover_stack.autonomy.executive import (
    CancelNav,
    Event,
    Executive,
    ExecutiveConfig,
    NavGoal,
    State,
    targets_from_mission,
)
from rover_stack.autonomy.goal_client import GoalClient
from rover_stack.autonomy.goals import base_to_map, default_mission_dirs, resolve_goal
from rover_stack.autonomy.mission import Mission, MissionError
from rover_stack.autonomy.status_light import light_for
from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param, watch_params
from rover_stack.common.qos import command_qos, latched_qos, sensor_qos
from rover_stack.common.share_files import config_dir
from rover_stack.common.stamps import stamp_seconds
from rover_stack.drive.arbitration import load_inputs
from rover_stack.geo.enu import LocalTangentPlane
from rover_stack.localization.map_odom import Pose2D, PoseHistory
from rover_stack.tf.transform import yaw_from_quaternion

NODE_NAME = 'mission_executive'
POSE_HISTORY_S = 5.0         # s of map poses kept to place detections at their image's stamp
POSE_EXTRAPOLATION_S = 0.25  # s a detection may be newer than the newest pose (odometry at 50 Hz)

_RUNNING = (State.NAVIGATE, State.SEARCH, State.APPROACH, State.ARRIVED, State.NEXT_LEG)
STATUS_STATE = {
    State.IDLE: MissionStatus.IDLE, **dict.fromkeys(_RUNNING, MissionStatus.RUNNING),
    State.PAUSED: MissionStatus.PAUSED, State.TELEOP: MissionStatus.TELEOP,
    State.RETURNING: MissionStatus.RETURNING, State.SUCCEEDED: MissionStatus.SUCCEEDED,
    State.FAILED: MissionStatus.FAILED, State.ABORTED: MissionStatus.FAILED,
    State.CANCELED: MissionStatus.CANCELED,
}
NAV_EVENTS = {NavigateToGoal.Result.SUCCEEDED: Event.NAV_SUCCEEDED,
              NavigateToGoal.Result.FAILED: Event.NAV_FAILED,
              NavigateToGoal.Result.INVALID_GOAL: Event.NAV_FAILED}
SIGHTINGS_SAVE_PERIOD = 1.0   # s (ROS time), at most one progress write per second for new sightings
SERVICES = {'mission/skip_leg': Event.SKIP, 'mission/pause': Event.PAUSE, 'mission/resume': Event.RESUME,
            'mission/abort_and_return': Event.ABORT_RETURN}


@dataclass
class MissionParams:
    """The node's own parameters; the mission behaviour ones are ExecutiveConfig's, declared from it."""
    rate: float = param(10.0, 'Executive step rate', unit='Hz', low=1.0, high=100.0, read_only=True)
    progress_file: str = param('', 'Progress file; empty = $ROS_HOME/rover_stack/mission_progress.json '
                               '(default ROS_HOME ~/.ros)', read_only=True)
    auto_resume: bool = param(True, 'At start-up, restore an unfinished mission from the progress file, '
                              'paused until mission/resume', read_only=True)
    auto_resume_max_age: float = param(300.0, 'Restore only a progress file written during this boot at '
                                       'most this long ago (boot time, not the wall clock)', unit='s',
                                       low=0.0, high=86400.0, read_only=True)
    allowed_mission_dirs: list = param(  # noqa: RUF009 - param() turns a list default into a default_factory
        [''], 'Extra directories goal mission_file may name (config/missions is always allowed)',
        read_only=True)
    autonomy_source: str = param('autonomy', 'Arbitration source name of autonomy; sources of higher '
                                 'priority in the arbitration table are teleop', read_only=True)
    arbitration_file: str = param('', 'Arbitration table; empty = config/arbitration.yaml', read_only=True)
    datum_tolerance: float = param(1.0, 'Mission and localization datums farther apart than this are '
                                   'reported; the localization datum defines the map', unit='m', low=0.0,
                                   high=1000.0, read_only=True)
    map_frame: str = param('map', 'Frame of navigation goals and odometry/filtered', read_only=True)
    flash_period: float = param(0.5, 'Status light flash period', unit='s', low=0.1, high=5.0, read_only=True)
    status_period: float = param(1.0, 'mission/status and feedback period while running', unit='s', low=0.1,
                                 high=60.0, read_only=True)
    nav_response_timeout: float = param(5.0, 'Wall time to wait for navigate_to_goal to accept a goal or to '
                                        'deliver the result of an ended one; then the request is sent again '
                                        '(a DDS reply can be lost while discovery completes)', unit='s',
                                        low=0.5, high=120.0, read_only=True)


def default_progress_file() -> Path:
    home = os.environ.get('ROS_HOME') or str(Path.home() / '.ros')
    return Path(home) / 'rover_stack' / 'mission_progress.json'


def teleop_sources(arbitration_file: str, autonomy: str) -> set[str]:
    """Arbitration sources with a higher priority than ``autonomy`` (the teleop ones)."""
    config = load_inputs(Path(arbitration_file) if arbitration_file else config_dir() / 'arbitration.yaml')
    priority = {s.name: s.priority for s in config.sources}
    if autonomy not in priority:
        raise ValueError(f'autonomy_source {autonomy!r} is not a source of the arbitration table '
                         f'({", ".join(priority)})')
    return {name for name, p in priority.items() if p > priority[autonomy]}


@dataclass
class Run:
    """One mission being executed (with or without a client goal)."""
    mission: Mission
    text: str
    source: str
    digest: str
    executive: Executive
    started: float                       # s, ROS time
    goal_handle: object = None
    saved_legs: int = -1
    saved_final: bool = False
    done: bool = False                   # the end was logged and saved
    goal_done: Future | None = None      # resolved ('done', 'superseded', 'shutdown') for the attached goal
    next_feedback: float = 0.0           # s, monotonic
    detections: list = dataclasses.field(default_factory=list)   # recent confirmed MarkerDetection msgs
    saved_sighting: object = None        # the newest sighting in the progress file
    saved_sightings_at: float = -math.inf   # s, ROS time of that save
    saved_hold: tuple = ('', None)       # (hold, return goal) in the progress file


class MissionExecutiveNode(Node):
    """Executes missions leg by leg: navigate, search, approach, arrived (executive.py).

    Action server ``execute_mission`` (rover_interfaces/ExecuteMission): goal = mission_file (a name or
    a path inside the allowed mission directories) or mission_yaml; feedback every ``status_period``;
    result = one LegOutcome per leg. Cancel stops the rover's navigation and ends the mission.
    Services (std_srvs/Trigger): ``mission/skip_leg``, ``mission/pause``, ``mission/resume``,
    ``mission/abort_and_return`` (drive back to the previous leg's location and end).
    Publishes ``mission/status`` (MissionStatus, latched, on change and every status_period) and
    ``status_light`` (StatusLight, latched: red autonomous, blue teleop, flashing green arrived).
    Subscribes ``odometry/filtered`` (nav_msgs/Odometry, pose in map), ``markers`` and ``objects``
    (MarkerDetectionArray, confirmed detections only, pose_base in base_link), ``gates``
    (GateDetection), ``active_source`` (std_msgs/String from cmd_arbitration: a teleop source of
    higher priority than autonomy pauses the mission), ``datum`` (NavSatFix, the localization's map
    origin: leg coordinates are converted with it), ``estop_state`` (std_msgs/Bool, latched, from the
    drive controller: latching pauses the mission; after the reset it waits for ``mission/resume``).
    Client of ``navigate_to_goal`` (NavigateToGoal, goals in ``map_frame``).
    Progress (finished legs and outcomes, a pause or a return in progress) is saved atomically to
    ``progress_file``; a respawned node restores an unfinished mission of this boot (``auto_resume``)
    paused, and ``mission/resume`` continues it; a re-sent identical goal attaches to it.
    Parameters: MissionParams (the node's own) and ExecutiveConfig (mission behaviour; distances m, times s).
    """

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_params(self, MissionParams)
        self.executive_config = declare_params(self, ExecutiveConfig)
        # resume_after_takeover is the one writable setting: read by the step, also for a running mission
        watch_params(self, ExecutiveConfig, lambda _new: None, attribute='executive_config')
        self._teleop = teleop_sources(p.arbitration_file, p.autonomy_source)
        self._progress_path = Path(p.progress_file) if p.progress_file else default_progress_file()
        self._mission_dirs = default_mission_dirs() + [Path(d) for d in p.allowed_mission_dirs if d]
        self._lock = threading.RLock()
        self._run: Run | None = None
        self._pose: tuple[float, float, float] | None = None
        self._pose_history = PoseHistory(horizon=POSE_HISTORY_S)   # map -> base_link by stamp
        self._datum: NavSatFix | None = None
        self._active_source = ''
        self._teleop_active = ''
        self._estop = False                    # estop_state: the drive controller's latch
        self._detections = collections.deque(maxlen=200)
        self._last_status = None
        self._last_light = None
        self._last_status_time = 0.0

        group = ReentrantCallbackGroup()
        self._server = ActionServer(self, ExecuteMission, 'execute_mission', self._execute,
                                    goal_callback=self._on_goal, callback_group=group,
                                    cancel_callback=lambda _h: CancelResponse.ACCEPT)
        self._nav = GoalClient(self, NavigateToGoal, 'navigate_to_goal', p.nav_response_timeout, group)
        self._status_pub = self.create_publisher(MissionStatus, 'mission/status', latched_qos())
        self._light_pub = self.create_publisher(StatusLight, 'status_light', latched_qos())
        self.create_subscription(Odometry, 'odometry/filtered', self._on_odom, sensor_qos(depth=10))
        self.create_subscription(MarkerDetectionArray, 'markers', self._on_detections, command_qos())
        self.create_subscription(MarkerDetectionArray, 'objects', self._on_detections, command_qos())
        self.create_subscription(GateDetection, 'gates', self._on_gate, command_qos())
        self.create_subscription(String, 'active_source', self._on_active_source, latched_qos())
        self.create_subscription(NavSatFix, 'datum', self._on_datum, latched_qos())
        self.create_subscription(Bool, 'estop_state', self._on_estop_state, latched_qos())
        for name, event in SERVICES.items():
            self.create_service(Trigger, name, lambda req, res, e=event: self._on_service(e, res))
        # Its own group: the /clock subscription (default group) may never starve the step.
        self.create_timer(1.0 / p.rate, self._step, callback_group=MutuallyExclusiveCallbackGroup())
        self._auto_resume_pending = p.auto_resume
        self._publish(force=True)

    # ------------------------------------------------------------ callbacks: store only
    def _on_odom(self, msg: Odometry) -> None:
        if msg.header.frame_id and msg.header.frame_id != self.params.map_frame:
            self.get_logger().warning(f'odometry/filtered in {msg.header.frame_id!r}, expected '
                                      f'{self.params.map_frame!r}: ignored', throttle_duration_sec=10.0)
            return
        q = msg.pose.pose.orientation
        position = msg.pose.pose.position
        self._pose = (position.x, position.y, yaw_from_quaternion(q.x, q.y, q.z, q.w))
        self._pose_history.add(stamp_seconds(msg.header.stamp), Pose2D(*self._pose))

    def _on_detections(self, msg: MarkerDetectionArray) -> None:
        self._detections.extend(d for d in msg.detections if d.confirmed)

    def _on_gate(self, msg: GateDetection) -> None:
        self._detections.append(msg)

    def _on_active_source(self, msg: String) -> None:
        self._active_source = msg.data

    def _on_datum(self, msg: NavSatFix) -> None:
        self._datum = msg

    def _on_estop_state(self, msg: Bool) -> None:
        self._estop = bool(msg.data)

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # ------------------------------------------------------------ starting runs
    def _plane(self, mission: Mission) -> LocalTangentPlane:
        """The map frame: the localization's datum when known (warn if the mission's differs)."""
        plane = mission.plane()
        datum = self._datum
        if datum is None or not (math.isfinite(datum.latitude) and math.isfinite(datum.longitude)):
            self.get_logger().warning('no localization datum yet: the mission datum defines the map')
            return plane
        east, north, _ = plane.to_enu(datum.latitude, datum.longitude)
        offset = math.hypot(east, north)
        if offset > self.params.datum_tolerance:
            self.get_logger().error(
                f'localization datum ({datum.latitude:.7f}, {datum.longitude:.7f}) is {offset:.1f} m from '
                f'the mission datum: leg positions use the localization datum (the map frame)')
        alt = datum.altitude if math.isfinite(datum.altitude) else mission.datum.altitude
        return LocalTangentPlane(datum.latitude, datum.longitude, alt)

    def _load_progress(self) -> persistence.Progress | None:
        """The progress file, or None when there is none or it is damaged (then it is moved aside)."""
        try:
            return persistence.load(self._progress_path)
        except persistence.ProgressError as error:
            moved = persistence.quarantine(self._progress_path)
            where = f'moved to {moved}' if moved else 'could not be moved aside'
            self.get_logger().error(f'{error}: ignored ({where}); no mission is restored from it')
            return None

    def _start_run(self, mission: Mission, text: str, source: str, start_leg: int, goal_handle=None, *,
                   restored: persistence.Progress | None = None) -> Run:
        """Start ``mission`` (resuming an unfinished run of it); ``restored``: the progress a respawned
        node restores, held paused until mission/resume."""
        self._auto_resume_pending = False     # a goal that came first wins over the saved run
        digest = persistence.digest(text)
        saved = restored or self._load_progress()
        resume_leg, prior = persistence.resume_point(saved, digest)
        first = min(max(start_leg, resume_leg), len(mission.legs))
        if resume_leg:
            self.get_logger().info(f'resuming mission {mission.name!r} at leg {first + 1} '
                                   f'from {self._progress_path}')
        executive = Executive(targets_from_mission(mission, self._plane(mission)), self.executive_config,
                              first, prior)
        run = Run(mission, text, source, digest, executive, self._now(), goal_handle)
        if self._pose is not None:
            executive.update_pose(*self._pose)
        executive.set_estop(self._estop, self._now())
        if restored is not None and restored.hold == 'returning':
            executive.hold_after_restart(self._now(), tuple(restored.return_goal))
        else:
            executive.handle(Event.START, self._now())
            if (saved is not None and saved.running and saved.mission_digest == digest
                    and first == resume_leg and saved.sightings):
                self._restore_sightings(executive, saved)
            if restored is not None:
                executive.hold_after_restart(self._now())
        self._run = run
        self._save(run)
        return run

    def _restore_sightings(self, executive: Executive, saved: persistence.Progress) -> None:
        """Replay the saved sightings of the leg being resumed: a target found before the respawn is
        approached again instead of searched for."""
        sightings, bad = persistence.sightings_from_json(saved.sightings)
        if bad:
            self.get_logger().warning(f'{self._progress_path}: {bad} malformed sightings ignored')
        for sighting in sightings:
            executive.observe(sighting.kind, sighting.key, sighting.xy, sighting.yaw, self._now(),
                              distance=sighting.distance)
        if sightings:
            self.get_logger().info(f'{len(sightings)} saved sightings of leg {executive.leg_index + 1} '
                                   f'replayed: {executive.state.value}')

    def _maybe_auto_resume(self) -> None:
        """Restore the unfinished mission of the progress file, paused (docs/safety.md)."""
        self._auto_resume_pending = False
        saved = self._load_progress()
        if saved is None or not saved.running:
            return
        max_age = self.params.auto_resume_max_age
        refusal = persistence.restore_refusal(saved, *persistence.boot_stamp(), max_age)
        if refusal:
            self.get_logger().warning(f'unfinished mission {saved.mission_name!r} in {self._progress_path} '
                                      f'not restored: {refusal}')
            return
        try:
            mission = resolve_goal('', saved.mission_yaml, [])[0]
        except MissionError as error:
            self.get_logger().error(f'cannot restore the saved mission: {error}')
            return
        run = self._start_run(mission, saved.mission_yaml, saved.mission_source, saved.next_leg,
                              restored=saved)
        self.get_logger().warning(f'mission {mission.name!r}: {run.executive.message}')

    # ------------------------------------------------------------ action server
    def _on_goal(self, request) -> GoalResponse:
        """Accept unless another mission runs; the running mission sent again takes over its run."""
        with self._lock:
            run = self._run
            busy = run is not None and not run.executive.finished and run.goal_handle is not None
        if busy and self._digest_of(request) != run.digest:
            self.get_logger().warning('mission goal rejected: another mission is running (cancel it first)')
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _digest_of(self, request) -> str | None:
        try:
            return persistence.digest(resolve_goal(request.mission_file, request.mission_yaml,
                                                   self._mission_dirs)[1])
        except (MissionError, OSError):
            return None

    async def _execute(self, handle) -> ExecuteMission.Result:
        """Start (or take over) the run, then wait for the step to resolve this goal's future."""
        request = handle.request
        try:
            mission, text, source = resolve_goal(request.mission_file, request.mission_yaml,
                                                 self._mission_dirs)
        except (MissionError, OSError) as error:
            self.get_logger().error(f'mission goal aborted: {error}')
            handle.abort()
            return ExecuteMission.Result(success=False, message=str(error))
        with self._lock:
            run = self._run
            previous = None
            if run is not None and not run.executive.finished and run.digest == persistence.digest(text):
                # The same mission again: a respawned node's own run, or a client re-sending its goal.
                # The new goal takes the run over; an earlier goal handle ends (superseded).
                previous = run.goal_done
                run.goal_handle = handle
                self.get_logger().info(f'goal attached to the running mission {mission.name!r}')
            else:
                if run is not None and not run.executive.finished:
                    run.executive.handle(Event.CANCEL, self._now())
                    self._apply_commands(run)
                run = self._start_run(mission, text, source, request.start_leg, handle)
            run.goal_done, run.next_feedback = Future(), 0.0
            done = run.goal_done
            self.get_logger().info(f'mission {mission.name!r} from {source}: {len(mission.legs)} legs, '
                                   f'starting at leg {run.executive.leg_index + 1}')
        if previous is not None and not previous.done():
            previous.set_result('superseded')
        outcome = await done
        if outcome == 'superseded':                 # a new goal for the same mission took over
            handle.abort()
            return ExecuteMission.Result(success=False, message='superseded by a new goal (same mission)')
        with self._lock:
            result = self._result(run)
        if outcome == 'shutdown':
            result.message = result.message or 'mission executive shut down'
            return result               # shutting down: the goal can no longer be updated
        if run.executive.state is State.CANCELED and handle.is_cancel_requested:
            handle.canceled()
        elif result.success:
            handle.succeed()
        else:
            handle.abort()
        return result

    def _serve_goal(self, run: Run) -> None:
        """Cancel requests and periodic feedback of the goal attached to ``run`` (under the lock)."""
        handle, done = run.goal_handle, run.goal_done
        if handle is None or done is None or done.done():
            return
        if handle.is_cancel_requested and not run.executive.finished:
            run.executive.handle(Event.CANCEL, self._now())
            self._apply_commands(run)
        if run.executive.finished:
            return
        now = time.monotonic()
        if now >= run.next_feedback:
            handle.publish_feedback(self._feedback(run))
            run.next_feedback = now + self.params.status_period

    def _feedback(self, run: Run) -> ExecuteMission.Feedback:
        ex = run.executive
        leg = ex.leg or ex.legs[-1]
        return ExecuteMission.Feedback(
            leg_index=min(ex.leg_index, len(ex.legs) - 1), leg_count=len(ex.legs), leg_kind=leg.kind,
            state=ex.state.value, distance_to_target=ex.distance_to_target(),
            elapsed=self._now() - run.started, confirmed_detections=list(run.detections[-5:]))

    def _result(self, run: Run) -> ExecuteMission.Result:
        ex = run.executive
        legs = [LegOutcome(leg_index=r.index, leg_kind=r.kind, outcome=getattr(LegOutcome, r.outcome),
                           duration=float(r.duration), final_distance=float(r.final_distance),
                           message=r.message)
                for r in ex.results]
        return ExecuteMission.Result(success=ex.success, legs=legs, message=ex.message)

    # ------------------------------------------------------------ services
    def _on_service(self, event: Event, response):
        with self._lock:
            run = self._run
            if run is None or run.executive.finished:
                response.success, response.message = False, 'no mission is running'
                return response
            before = run.executive.state
            response.success = run.executive.handle(event, self._now())
            response.message = (run.executive.message if response.success
                                else f'{event.value} is not possible in state {before.value}'
                                + (' (the e-stop is latched: reset it first)' if run.executive.estop_latched
                                   else ''))
            self._apply_commands(run)
        self.get_logger().info(f'{event.value}: {response.message}')
        return response

    # ------------------------------------------------------------ the step
    def _step(self) -> None:
        now = self._now()
        if now <= 0.0:        # use_sim_time and no /clock yet
            return
        with self._lock:
            if self._auto_resume_pending:
                self._maybe_auto_resume()
            run = self._run
            teleop = self._active_source if self._active_source in self._teleop else ''
            if run is not None and not run.executive.finished:
                ex = run.executive
                if self._pose is not None:
                    ex.update_pose(*self._pose)
                if self._estop != ex.estop_latched:
                    ex.set_estop(self._estop, now)
                    self.get_logger().warning(f'e-stop {"latched" if self._estop else "reset"}: '
                                              f'{ex.state.value}: {ex.message}')
                self._feed_detections(run, now)
                if teleop and not self._teleop_active:
                    ex.handle(Event.TAKEOVER, now)
                    self.get_logger().warning(f'teleop takeover by {teleop}: mission paused')
                elif self._teleop_active and not teleop:
                    ex.handle(Event.RELEASE, now)
                    self.get_logger().info(f'teleop released: {ex.state.value}')
                resume = self.executive_config.resume_after_takeover
                if resume != ex.config.resume_after_takeover:
                    ex.config = dataclasses.replace(ex.config, resume_after_takeover=resume)
                for event, goal_id in self._nav_outcomes():
                    ex.handle(event, now, goal_id=goal_id)
                self._serve_goal(run)
                ex.tick(now)
                self._apply_commands(run)
            else:
                self._detections.clear()
            if run is not None and not run.done:
                self._save(run)
                if run.executive.finished:
                    ex = run.executive
                    self.get_logger().info(f'mission {run.mission.name!r}: {ex.state.value}: {ex.message}')
                    run.done = True
            if run is not None and run.done and run.goal_done is not None and not run.goal_done.done():
                run.goal_done.set_result('done')
            self._teleop_active = teleop
            self._nav.step(time.monotonic())
            self._publish()

    def _pose_at(self, stamp) -> tuple[float, float, float] | None:
        """The rover's map pose when a detection's image was taken (not the newest pose: during a turn
        the difference moves a target 5 m away by metres). An unstamped detection gets the newest pose;
        one stamped outside the pose history (or before any pose) gets None."""
        t = stamp_seconds(stamp)
        if t == 0.0:
            return self._pose
        pose = self._pose_history.at(t, tolerance=POSE_EXTRAPOLATION_S)
        if pose is None:
            latest = self._pose_history.latest
            age = 'no pose yet' if latest is None else f'{latest[0] - t:+.2f} s older than the newest pose'
            self.get_logger().warning(f'detection stamped {t:.3f} s ({age}): no pose for it, ignored',
                                      throttle_duration_sec=5.0)
            return None
        return (pose.x, pose.y, pose.yaw)

    def _feed_detections(self, run: Run, now: float) -> None:
        ex = run.executive
        while self._detections:
            msg = self._detections.popleft()
            pose = self._pose_at(msg.header.stamp)
            if pose is None:
                continue
            if isinstance(msg, GateDetection):
                p = msg.pose
                xy = base_to_map(pose, p.position.x, p.position.y)
                q = p.orientation
                yaw = pose[2] + yaw_from_quaternion(q.x, q.y, q.z, q.w)
                ex.observe('gate', (msg.left_id, msg.right_id), xy, yaw, now,
                           distance=math.hypot(p.position.x, p.position.y))
                continue
            xy = base_to_map(pose, msg.pose_base.position.x, msg.pose_base.position.y)
            distance = msg.range if math.isfinite(msg.range) and msg.range > 0.0 else None
            if msg.kind == msg.KIND_OBJECT:
                ex.observe('object', msg.label, xy, None, now, distance=distance)
            else:
                ex.observe('marker', msg.id, xy, None, now, distance=distance)
            if ex.leg is not None and (msg.id in ex.leg.tags or msg.label == ex.leg.object):
                run.detections = [*run.detections[-9:], msg]

    def _save(self, run: Run) -> None:
        ex = run.executive
        completed = ex.completed_legs
        now = self._now()
        sightings_due = (ex.sightings and ex.sightings[-1] is not run.saved_sighting
                         and now - run.saved_sightings_at >= SIGHTINGS_SAVE_PERIOD)
        hold = self._hold(ex)
        if (completed == run.saved_legs and ex.finished == run.saved_final and not sightings_due
                and hold == run.saved_hold):
            return
        sightings = ex.sightings if completed == ex.leg_index and not ex.finished else []
        boot_id, boot_time = persistence.boot_stamp()
        progress = persistence.Progress(run.mission.name, run.digest, run.source, run.text, completed,
                                        not ex.finished, ex.results[:completed],
                                        persistence.sightings_to_json(sightings), hold[0],
                                        list(hold[1]) if hold[1] else None, boot_id, boot_time)
        try:
            persistence.save(self._progress_path, progress)
        except OSError as error:
            self.get_logger().error(f'cannot save progress to {self._progress_path}: {error}',
                                    throttle_duration_sec=10.0)
            return
        run.saved_legs, run.saved_final, run.saved_hold = completed, ex.finished, hold
        run.saved_sighting, run.saved_sightings_at = (ex.sightings[-1] if ex.sightings else None), now

    @staticmethod
    def _hold(ex: Executive) -> tuple[str, tuple | None]:
        """What the progress file records of an operator hold: ('returning', goal), ('paused', None)
        or ('', None)."""
        goal = ex.return_goal
        if goal is not None:
            return 'returning', goal
        return ('paused' if ex.state in (State.PAUSED, State.TELEOP) else ''), None

    # ------------------------------------------------------------ navigation client
    def _apply_commands(self, run: Run) -> None:
        for command in run.executive.take_commands():
            if isinstance(command, CancelNav):
                self._nav.cancel()
            elif isinstance(command, NavGoal):
                self._send_nav(command)

    def _send_nav(self, command: NavGoal) -> None:
        """Send ``command`` to navigate_to_goal (the running goal is canceled)."""
        goal = NavigateToGoal.Goal(use_heading=command.yaw is not None, tolerance=float(command.tolerance))
        goal.goal.header.frame_id = self.params.map_frame
        goal.goal.header.stamp = self.get_clock().now().to_msg()
        goal.goal.pose.position.x, goal.goal.pose.position.y = float(command.x), float(command.y)
        yaw = command.yaw or 0.0
        goal.goal.pose.orientation.z, goal.goal.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
        self.get_logger().info(f'navigate ({command.purpose}) to ({command.x:.1f}, {command.y:.1f}) m'
                               + (f' yaw {command.yaw:.2f}' if command.yaw is not None else '')
                               + f' within {command.tolerance:.1f} m')
        self._nav.send(goal, command.goal_id)

    def _nav_outcomes(self) -> list[tuple[Event, int]]:
        """(executive event, goal id) of the navigation outcomes since the last call."""
        events = []
        for goal_id, kind, result, _status in self._nav.take_events():
            event = Event.NAV_FAILED if kind == 'rejected' else None
            if kind == 'result':
                event = NAV_EVENTS.get(result.error_code)
                if event is Event.NAV_FAILED:
                    self.get_logger().warning(f'navigation failed: {result.message}')
            if event is not None:
                events.append((event, goal_id))
        return events

    # ------------------------------------------------------------ status
    def _publish(self, force: bool = False) -> None:
        run = self._run
        ex = run.executive if run else None
        state = ex.state if ex else State.IDLE
        light = light_for(state, self._teleop_active, ex.leg_index if ex else 0)
        if force or light != self._last_light:
            msg = StatusLight(color=light.color, flashing=light.flashing,
                              flash_period=float(self.params.flash_period), reason=light.reason)
            msg.header.stamp = self.get_clock().now().to_msg()
            self._light_pub.publish(msg)
            self._last_light = light
        key = (state, ex.leg_index if ex else 0, ex.message if ex else '', self._active_source)
        now = time.monotonic()
        if not force and key == self._last_status and (
                ex is None or ex.finished or now - self._last_status_time < self.params.status_period):
            return
        self._last_status, self._last_status_time = key, now
        status = MissionStatus(state=STATUS_STATE[state], active_command_source=self._active_source)
        status.header.stamp = self.get_clock().now().to_msg()
        if ex is not None:
            leg = ex.leg or ex.legs[-1]
            status.mission_name = run.mission.name
            status.leg_index = min(ex.leg_index, len(ex.legs) - 1)
            status.leg_count = len(ex.legs)
            status.leg_kind = leg.kind if ex.leg else ''
            status.leg_state = state.value
            status.distance_to_target = ex.distance_to_target()
            status.elapsed = self._now() - run.started
            status.message = ex.message
        else:
            status.distance_to_target = math.nan
        self._status_pub.publish(status)

    def destroy_node(self) -> None:
        with self._lock:
            if rclpy.ok(context=self.context):   # stop the navigator's goal while we still can
                self._nav.cancel()
            run = self._run
            if run is not None and run.goal_done is not None and not run.goal_done.done():
                run.goal_done.set_result('shutdown')
        super().destroy_node()


def main(args=None) -> int:
    return run_node(MissionExecutiveNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
