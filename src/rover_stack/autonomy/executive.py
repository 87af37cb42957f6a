"""The mission executive: an explicit state machine over the legs of a mission (pure, no rclpy).

Every transition is one row of ``TRANSITIONS``: (state, event, guard, next state, action). Rows are
tried in order; the first whose guard holds fires. A (state, event) pair without a row is refused
(``handle`` returns False), so a service such as ``mission/skip_leg`` can tell the caller why.
``NEXT_LEG`` is a choice point resolved at once (event CONTINUE); ``HISTORY`` means "the state that
was interrupted by a pause or a takeover". Print the diagram with
``python -m rover_stack.autonomy.executive --diagram [--format mermaid|dot]``.

Positions are map-frame (x east, y north) metres, yaw in rad, times in s of any monotonic clock
(the node uses ROS time). The executive talks to the outside only through its methods and the
commands it queues (``NavGoal``, ``CancelNav``), which the node turns into navigate_to_goal calls.
"""
from __future__ import annotations

import argparse
import enum
import math
import sys
from dataclasses import dataclass, field

from rover_stack.autonomy import search
from rover_stack.common.angles import wrap_angle
from rover_stack.common.param_spec import param

Point = tuple[float, float]


class State(enum.Enum):
    IDLE = 'idle'
    NAVIGATE = 'navigate'     # to the leg's (approximate) location
    SEARCH = 'search'         # coverage pattern around it, target not yet confirmed
    APPROACH = 'approach'     # to the confirmed target (gate: entry point, then through)
    ARRIVED = 'arrived'       # within tolerance: light flashing green for arrived_hold s
    NEXT_LEG = 'next_leg'     # choice point: next leg, or the mission is over
    PAUSED = 'paused'         # operator pause; resumes the interrupted state
    TELEOP = 'teleop'         # a higher-priority command source is driving
    RETURNING = 'returning'   # abort-and-return: driving back to the previous leg's location
    SUCCEEDED = 'succeeded'   # terminal: every leg succeeded or was skipped
    FAILED = 'failed'         # terminal: some leg failed or timed out
    ABORTED = 'aborted'       # terminal: after abort-and-return
    CANCELED = 'canceled'     # terminal: the goal was canceled


HISTORY = 'HISTORY'   # pseudo target: the state interrupted by PAUSED/TELEOP

TERMINAL = frozenset({State.SUCCEEDED, State.FAILED, State.ABORTED, State.CANCELED})
LEG_STATES = frozenset({State.NAVIGATE, State.SEARCH, State.APPROACH, State.ARRIVED})
TIMED_STATES = frozenset({State.NAVIGATE, State.SEARCH, State.APPROACH})   # leg timeout runs here
DRIVING_STATES = LEG_STATES | {State.RETURNING}   # states that send navigation goals
RESTORED = 'restored after a restart'   # message prefix of a run held by hold_after_restart


class Event(enum.Enum):
    START = 'start'
    NAV_SUCCEEDED = 'nav_succeeded'
    NAV_FAILED = 'nav_failed'
    TARGET_CONFIRMED = 'target_confirmed'
    TARGET_MOVED = 'target_moved'
    HOLD_DONE = 'hold_done'
    LEG_TIMEOUT = 'leg_timeout'
    SKIP = 'skip'
    PAUSE = 'pause'
    RESUME = 'resume'
    TAKEOVER = 'takeover'
    RELEASE = 'release'
    ABORT_RETURN = 'abort_return'
    CANCEL = 'cancel'
    CONTINUE = 'continue'
    ESTOP = 'estop'             # the e-stop latched (set_estop): pause until reset and RESUME


@dataclass(frozen=True)
class Transition:
    source: State
    event: Event
    guard: str | None       # name of a predicate; 'not x' negates; None = always
    target: State | str     # a State or HISTORY
    action: str             # name of an action method (_a_<name>)


S, E = State, Event


def _common(state: State) -> list[Transition]:
    """Rows shared by the states in which a leg is being worked on."""
    rows = []
    if state in TIMED_STATES:
        rows.append(Transition(state, E.LEG_TIMEOUT, None, S.NEXT_LEG, 'time_out_leg'))
    rows += [
        Transition(state, E.SKIP, None, S.NEXT_LEG, 'succeed_leg' if state is S.ARRIVED else 'skip_leg'),
        Transition(state, E.PAUSE, None, S.PAUSED, 'pause'),
        Transition(state, E.ESTOP, None, S.PAUSED, 'estop_pause'),
        Transition(state, E.TAKEOVER, None, S.TELEOP, 'pause'),
        Transition(state, E.ABORT_RETURN, None, S.RETURNING, 'begin_return'),
        Transition(state, E.CANCEL, None, S.CANCELED, 'cancel'),
    ]
    return rows


TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.IDLE, E.START, None, S.NEXT_LEG, 'start'),
    Transition(S.IDLE, E.CANCEL, None, S.CANCELED, 'cancel'),
    Transition(S.NEXT_LEG, E.CONTINUE, 'legs_left', S.NAVIGATE, 'begin_leg'),
    Transition(S.NEXT_LEG, E.CONTINUE, 'all_ok', S.SUCCEEDED, 'finish'),
    Transition(S.NEXT_LEG, E.CONTINUE, None, S.FAILED, 'finish'),

    Transition(S.NAVIGATE, E.NAV_SUCCEEDED, 'gnss_leg', S.ARRIVED, 'arrive'),
    Transition(S.NAVIGATE, E.NAV_SUCCEEDED, 'target_known', S.APPROACH, 'begin_approach'),
    Transition(S.NAVIGATE, E.NAV_SUCCEEDED, None, S.SEARCH, 'begin_search'),
    Transition(S.NAVIGATE, E.NAV_FAILED, 'retries_left', S.NAVIGATE, 'retry_nav'),
    Transition(S.NAVIGATE, E.NAV_FAILED, None, S.NEXT_LEG, 'fail_leg'),
    Transition(S.NAVIGATE, E.TARGET_CONFIRMED, None, S.APPROACH, 'begin_approach'),
    *_common(S.NAVIGATE),

    Transition(S.SEARCH, E.NAV_SUCCEEDED, 'search_points_left', S.SEARCH, 'next_search_point'),
    Transition(S.SEARCH, E.NAV_SUCCEEDED, None, S.NEXT_LEG, 'fail_leg'),
    Transition(S.SEARCH, E.NAV_FAILED, 'search_points_left', S.SEARCH, 'next_search_point'),
    Transition(S.SEARCH, E.NAV_FAILED, None, S.NEXT_LEG, 'fail_leg'),
    Transition(S.SEARCH, E.TARGET_CONFIRMED, None, S.APPROACH, 'begin_approach'),
    *_common(S.SEARCH),

    Transition(S.APPROACH, E.NAV_SUCCEEDED, 'target_still_far', S.APPROACH, 'reapproach'),
    Transition(S.APPROACH, E.NAV_SUCCEEDED, 'approach_stages_left', S.APPROACH, 'next_approach_stage'),
    Transition(S.APPROACH, E.NAV_SUCCEEDED, 'gate_missed_retries_left', S.APPROACH, 'retry_gate'),
    Transition(S.APPROACH, E.NAV_SUCCEEDED, 'gate_missed', S.NEXT_LEG, 'fail_gate'),
    Transition(S.APPROACH, E.NAV_SUCCEEDED, None, S.ARRIVED, 'arrive'),
    Transition(S.APPROACH, E.NAV_FAILED, 'retries_left', S.APPROACH, 'retry_nav'),
    Transition(S.APPROACH, E.NAV_FAILED, 'within_leg_tolerance', S.ARRIVED, 'arrive'),
    Transition(S.APPROACH, E.NAV_FAILED, None, S.NEXT_LEG, 'fail_leg'),
    Transition(S.APPROACH, E.TARGET_MOVED, None, S.APPROACH, 'replan_approach'),
    *_common(S.APPROACH),

    Transition(S.ARRIVED, E.HOLD_DONE, None, S.NEXT_LEG, 'succeed_leg'),
    *_common(S.ARRIVED),

    Transition(S.PAUSED, E.RESUME, 'not estop', HISTORY, 'resume'),
    Transition(S.PAUSED, E.ESTOP, None, S.PAUSED, 'estop_hold'),
    Transition(S.PAUSED, E.TAKEOVER, None, S.TELEOP, 'keep_paused'),
    Transition(S.PAUSED, E.SKIP, 'leg_in_progress', S.PAUSED, 'skip_leg_paused'),
    Transition(S.PAUSED, E.ABORT_RETURN, None, S.RETURNING, 'begin_return'),
    Transition(S.PAUSED, E.CANCEL, None, S.CANCELED, 'cancel'),

    Transition(S.TELEOP, E.RELEASE, 'auto_resume', HISTORY, 'resume'),
    Transition(S.TELEOP, E.RELEASE, None, S.PAUSED, 'none'),
    Transition(S.TELEOP, E.SKIP, 'leg_in_progress', S.TELEOP, 'skip_leg_paused'),
    Transition(S.TELEOP, E.ESTOP, None, S.TELEOP, 'keep_paused'),
    Transition(S.TELEOP, E.CANCEL, None, S.CANCELED, 'cancel'),

    Transition(S.RETURNING, E.NAV_SUCCEEDED, None, S.ABORTED, 'returned'),
    Transition(S.RETURNING, E.NAV_FAILED, 'retries_left', S.RETURNING, 'retry_nav'),
    Transition(S.RETURNING, E.NAV_FAILED, None, S.ABORTED, 'return_failed'),
    Transition(S.RETURNING, E.PAUSE, None, S.PAUSED, 'pause'),
    Transition(S.RETURNING, E.ESTOP, None, S.PAUSED, 'estop_pause'),
    Transition(S.RETURNING, E.TAKEOVER, None, S.TELEOP, 'pause'),
    Transition(S.RETURNING, E.CANCEL, None, S.CANCELED, 'cancel'),
)


# ---------------------------------------------------------------- inputs and outputs

@dataclass(frozen=True)
class LegTarget:
    """A mission leg in the map frame."""
    kind: str                 # gnss | post | gate | object
    name: str
    xy: Point                 # m, (approximate) target
    tolerance: float          # m
    timeout: float            # s
    search_radius: float      # m
    tags: tuple[int, ...] = ()
    object: str | None = None

    @property
    def tag_id(self) -> int | None:
        return self.tags[0] if self.kind == 'post' and self.tags else None


@dataclass(frozen=True)
class ExecutiveConfig:
    """Mission behaviour (distances m, times s). The ``param`` fields are mission_executive's ROS
    parameters, declared from here; the others are internal constants."""
    nav_retries: int = param(2, 'Navigation failures per goal before the leg fails', low=0, high=20,
                             read_only=True)
    arrived_hold: float = param(3.0, 'Flashing green at a target before the next leg', unit='s', low=0.0,
                                high=60.0, read_only=True)
    detection_range: float = param(5.0, 'Range at which targets are reliably confirmed (search spacing)',
                                   unit='m', low=0.5, high=50.0, read_only=True)
    search_overlap: float = param(0.8, 'Search sweep spacing = 2 x detection_range x overlap', low=0.1,
                                  high=1.0, read_only=True)
    search_pattern: str = param('spiral', 'Coverage pattern', choices=('spiral', 'square'), read_only=True)
    # a forward camera sees little of the ground the pattern circles around: look around first
    search_scan: bool = param(True, 'Turn once on the spot (three 120 deg steps) before the search pattern',
                              read_only=True)
    search_goal_tolerance: float = param(1.5, 'Reaching a search waypoint or an approximate location',
                                         unit='m', low=0.1, high=10.0, read_only=True)
    goal_tolerance_fraction: float = param(0.4, 'gnss legs: navigator tolerance = this x leg tolerance',
                                           low=0.05, high=1.0, read_only=True)
    approach_standoff: float = param(1.0, 'Stop this far short of a post', unit='m', low=0.0,
                                     high=5.0, read_only=True)
    object_standoff: float = param(0.5, 'Stop this far short of a ground object', unit='m', low=0.0,
                                   high=5.0, read_only=True)
    approach_goal_tolerance: float = param(0.3, 'Navigator tolerance of approach goals', unit='m', low=0.05,
                                           high=5.0, read_only=True)
    gate_entry_distance: float = param(2.5, 'Entry point before a gate, on its normal', unit='m', low=0.5,
                                       high=20.0, read_only=True)
    gate_exit_distance: float = param(2.0, 'Exit point past a gate', unit='m', low=0.5, high=20.0,
                                      read_only=True)
    gate_pass_margin: float = param(0.3, 'A gate counts as passed when the track crossed its line this far '
                                    'inside the posts', unit='m', low=0.0, high=5.0, read_only=True)
    gate_half_width: float = param(1.0, 'Half width assumed for a gate whose two posts were not both seen',
                                   unit='m', low=0.3, high=10.0, read_only=True)
    resume_after_takeover: bool = param(True, 'Resume by itself when a teleop takeover ends (else wait '
                                        'for mission/resume)')
    replan_distance: float = 0.75        # m, a refined target this far from the planned one replans
    arrive_margin: float = 0.5           # m, an approach ending farther than standoff + tolerance + this
    #                                      from the (refined) target approaches again (nav_retries times)
    match_margin: float = 10.0           # m, detections beyond search_radius + this are ignored


@dataclass(frozen=True)
class NavGoal:
    """Command: drive to (x, y) in the map frame; yaw None = any heading."""
    goal_id: int
    x: float
    y: float
    yaw: float | None
    tolerance: float
    purpose: str


@dataclass(frozen=True)
class CancelNav:
    """Command: cancel the navigation goal in progress, if any."""


OUTCOMES = ('PENDING', 'SUCCEEDED', 'SKIPPED', 'TIMED_OUT', 'FAILED', 'ABORTED')


@dataclass
class LegResult:
    index: int
    kind: str
    name: str
    outcome: str = 'PENDING'      # one of OUTCOMES (names of rover_interfaces/LegOutcome constants)
    duration: float = 0.0         # s, time spent working on the leg (pauses excluded)
    final_distance: float = math.nan  # m, rover to the (best known) target when the leg ended
    message: str = ''


#: Accepted observations of the current leg kept (and persisted) for a respawned executive.
SIGHTINGS_KEPT = 40


@dataclass(frozen=True)
class Sighting:
    """One accepted ``observe`` call, as given: replaying the current leg's sightings into a new
    Executive (a respawned mission node) restores what it knew of the target."""
    kind: str                          # 'marker', 'gate' or 'object'
    key: object                        # tag id, (left_id, right_id) or class label
    xy: Point                          # m, map frame
    yaw: float | None                  # rad, gates only
    distance: float | None             # m, seen from


@dataclass
class _Target:
    """Best estimate of the leg target from detections: the mean of the recent ones, each weighted by
    1 / range^2 (a detection from 2 m is far better placed than one from 8 m)."""
    samples: list = field(default_factory=list)   # [(x, y, yaw or None, weight)]

    def add(self, x: float, y: float, yaw: float | None, distance: float | None = None,
            keep: int = 20) -> None:
        weight = 1.0 / max(1.0, distance) ** 2 if distance is not None and math.isfinite(distance) else 1.0
        self.samples.append((x, y, yaw, weight))
        del self.samples[:-keep]

    @property
    def xy(self) -> Point:
        total = sum(s[3] for s in self.samples)
        return (sum(s[0] * s[3] for s in self.samples) / total,
                sum(s[1] * s[3] for s in self.samples) / total)

    @property
    def yaw(self) -> float | None:
        yaws = [s[2] for s in self.samples if s[2] is not None]
        if not yaws:
            return None
        return math.atan2(sum(math.sin(a) for a in yaws), sum(math.cos(a) for a in yaws))


def gate_from_tags(left: Point, right: Point) -> tuple[Point, float]:
    """Midpoint and crossing direction (yaw, rad) of a gate: passing along it, ``left`` is on the left."""
    dx, dy = left[0] - right[0], left[1] - right[1]
    return ((left[0] + right[0]) / 2.0, (left[1] + right[1]) / 2.0), math.atan2(-dx, dy)


# ---------------------------------------------------------------- the machine

class Executive:
    """Runs the legs of one mission; see the module docstring and TRANSITIONS."""

    def __init__(self, legs: list[LegTarget], config: ExecutiveConfig | None = None, start_leg: int = 0,
                 prior: list[LegResult] | None = None):
        if not legs:
            raise ValueError('a mission needs at least one leg')
        if not 0 <= start_leg <= len(legs):
            raise ValueError(f'start_leg {start_leg} out of range 0..{len(legs)}')
        self.legs = list(legs)
        self.config = config or ExecutiveConfig()
        self.state = State.IDLE
        self.leg_index = start_leg
        self.results = [LegResult(i, leg.kind, leg.name) for i, leg in enumerate(legs)]
        for result in prior or []:
            if 0 <= result.index < start_leg:
                self.results[result.index] = result
        for i in range(start_leg):
            if self.results[i].outcome == 'PENDING':
                self.results[i].outcome, self.results[i].message = 'SKIPPED', 'before start_leg'
        self.pose: tuple[float, float, float] | None = None
        self.start_xy: Point | None = None
        self.history: State | None = None
        self.message = ''
        self._commands: list = []
        self._goal_id = 0
        self._last_goal: NavGoal | None = None
        self._nav_active = False
        self._retries = 0
        self._target: _Target | None = None
        self._planned_target: Point | None = None
        self._gate_tags: dict[int, _Target] = {}
        self.sightings: list[Sighting] = []     # the current leg's accepted observations, newest last
        self._search_points: list[tuple[float, float, float | None]] = []   # x, y, yaw (None: any)
        self._search_index = 0
        self._approach_stage = 0
        self._gate_crossed = False      # the track crossed the current gate leg's gate, forwards
        self._gate_retries = 0          # entry-to-exit attempts repeated because the gate was missed
        self._leg_started = 0.0
        self._paused_total = 0.0
        self._paused_since: float | None = None
        self._arrived_since = 0.0
        self._operator_paused = False
        self.estop_latched = False     # set_estop: never in a DRIVING_STATE while true
        self._return_where = ''
        self._now = 0.0

    # ------------------------------------------------ queries
    @property
    def leg(self) -> LegTarget | None:
        return self.legs[self.leg_index] if self.leg_index < len(self.legs) else None

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL

    @property
    def success(self) -> bool:
        return self.state is State.SUCCEEDED

    @property
    def completed_legs(self) -> int:
        """Number of leading legs with a final outcome (the resume point)."""
        n = 0
        while n < len(self.results) and self.results[n].outcome != 'PENDING':
            n += 1
        return n

    def target_xy(self) -> Point | None:
        """Best known target of the current leg (refined if confirmed), or the return point."""
        if self.state is State.RETURNING or (self.history is State.RETURNING):
            return (self._last_goal.x, self._last_goal.y) if self._last_goal else None
        if self.leg is None:
            return None
        return self._target.xy if self._target else self.leg.xy

    def target_confirmed(self) -> bool:
        return self._target is not None

    def distance_to_target(self) -> float:
        target = self.target_xy()
        if target is None or self.pose is None:
            return math.nan
        return math.dist(target, self.pose[:2])

    def leg_elapsed(self, now: float) -> float:
        paused = self._paused_total + (now - self._paused_since if self._paused_since is not None else 0.0)
        return max(0.0, now - self._leg_started - paused)

    def take_commands(self) -> list:
        commands, self._commands = self._commands, []
        return commands

    def allowed(self, event: Event) -> bool:
        return any(row.source is self.state and row.event is event for row in TRANSITIONS)

    # ------------------------------------------------ inputs
    def update_pose(self, x: float, y: float, yaw: float) -> None:
        if all(math.isfinite(v) for v in (x, y, yaw)):
            previous = self.pose
            self.pose = (x, y, yaw)
            if previous is not None and self.state is State.APPROACH and self.leg.kind == 'gate':
                self._gate_crossed = self._gate_crossed or self._crosses_gate(previous[:2], (x, y))
            if self.start_xy is None and self.state is not State.IDLE:
                self.start_xy = (x, y)

    def handle(self, event: Event, now: float, goal_id: int | None = None) -> bool:
        """Apply one event; False when the current state has no row for it (or a stale nav result)."""
        self._now = now
        if event in (Event.NAV_SUCCEEDED, Event.NAV_FAILED):
            if not self._nav_active or goal_id != self._goal_id:
                return False
            self._nav_active = False
        for row in TRANSITIONS:
            if row.source is self.state and row.event is event and self._guard(row.guard):
                self._fire(row)
                break
        else:
            return False
        while self.state is State.NEXT_LEG:
            self.handle(Event.CONTINUE, now)
        if self.estop_latched and self.state in DRIVING_STATES:   # e.g. a START while latched
            self.handle(Event.ESTOP, now)
        return True

    def set_estop(self, latched: bool, now: float) -> None:
        """The drive controller's e-stop latch. Latching pauses a running mission; after the reset it
        stays paused until RESUME (refused while latched): a reset alone never moves the rover."""
        rising = latched and not self.estop_latched
        self.estop_latched = latched
        if rising:
            self.handle(Event.ESTOP, now)

    def hold_after_restart(self, now: float, return_goal: tuple | None = None) -> None:
        """Pause a run restored by a respawned executive: nothing drives until RESUME.

        Call it instead of START's driving: with ``return_goal`` (x m, y m, tolerance m, where) the run
        was returning (abort-and-return) and RESUME continues the return; otherwise START runs here and
        RESUME continues the leg.
        """
        self._now = now
        if return_goal is not None:
            x, y, tolerance, where = return_goal
            self._goal_id += 1
            self._last_goal = NavGoal(self._goal_id, float(x), float(y), None, float(tolerance), 'return')
            self._return_where = where
            self.state, self.history, self._paused_since = State.PAUSED, State.RETURNING, now
        else:
            if self.state is State.IDLE:
                self.handle(Event.START, now)
            if self.state in DRIVING_STATES:
                self.handle(Event.PAUSE, now)
        if self.state is State.PAUSED:
            self._operator_paused = True
            what = f'returning to {self._return_where}' if return_goal is not None else (
                f'leg {self.leg_index + 1}')
            self.message = f'{RESTORED} ({what}): paused until mission/resume'

    @property
    def return_goal(self) -> tuple | None:
        """(x, y, tolerance, where) of the return while returning (or paused in it), else None."""
        if State.RETURNING not in (self.state, self.history) or self._last_goal is None:
            return None
        goal = self._last_goal
        return (goal.x, goal.y, goal.tolerance, self._return_where)

    def tick(self, now: float) -> None:
        """Time events: leg timeout, end of the arrived hold."""
        self._now = now
        leg = self.leg
        if self.state in TIMED_STATES and leg is not None and self.leg_elapsed(now) > leg.timeout:
            self.handle(Event.LEG_TIMEOUT, now)
        elif self.state is State.ARRIVED and now - self._arrived_since >= self.config.arrived_hold:
            self.handle(Event.HOLD_DONE, now)

    def observe(self, kind: str, key, xy: Point, yaw: float | None, now: float, *,
                distance: float | None = None) -> None:
        """A confirmed detection in the map frame, seen from ``distance`` m (None: unknown).

        kind 'marker' (key = tag id), 'gate' (key = (left_id, right_id), yaw = crossing direction)
        or 'object' (key = class label). Detections that are not the current leg's target, or lie
        farther than search_radius + match_margin from its approximate location, are ignored.
        """
        leg = self.leg
        if leg is None or self.finished or self.state in (State.IDLE, State.RETURNING):
            return
        if not (all(math.isfinite(v) for v in xy) and (yaw is None or math.isfinite(yaw))):
            return
        if math.dist(xy, leg.xy) > leg.search_radius + self.config.match_margin:
            return
        sighting = Sighting(kind, tuple(key) if kind == 'gate' else key, (xy[0], xy[1]), yaw, distance)
        if leg.kind == 'post' and kind == 'marker' and key == leg.tag_id:
            self._update_target(xy[0], xy[1], None, now, distance=distance)
        elif leg.kind == 'object' and kind == 'object' and key == leg.object:
            self._update_target(xy[0], xy[1], None, now, distance=distance)
        elif leg.kind == 'gate' and kind == 'gate' and tuple(key) in (leg.tags, leg.tags[::-1]):
            if yaw is not None and tuple(key) != leg.tags:
                yaw += math.pi                    # seen from the other side: same gate, reversed ids
            self._update_target(xy[0], xy[1], yaw, now, distance=distance)
        elif leg.kind == 'gate' and kind == 'marker' and key in leg.tags:
            self._gate_tags.setdefault(key, _Target()).add(xy[0], xy[1], None, distance)
            if all(tag in self._gate_tags for tag in leg.tags):
                left, right = (self._gate_tags[tag].xy for tag in leg.tags)
                mid, crossing = gate_from_tags(left, right)
                self._update_target(mid[0], mid[1], crossing, now, distance=distance)
        else:
            return
        self.sightings.append(sighting)
        del self.sightings[:-SIGHTINGS_KEPT]

    def _update_target(self, x: float, y: float, yaw: float | None, now: float, *,
                       distance: float | None = None) -> None:
        first = self._target is None
        if first:
            self._target = _Target()
        self._target.add(x, y, yaw, distance)
        if first and self.state in (State.NAVIGATE, State.SEARCH):
            self.handle(Event.TARGET_CONFIRMED, now)
        elif (self.state is State.APPROACH and self._planned_target is not None
              and math.dist(self._target.xy, self._planned_target) > self.config.replan_distance):
            self.handle(Event.TARGET_MOVED, now)

    def _gate_line(self) -> tuple[Point, float, float] | None:
        """Midpoint, crossing direction (rad) and half width (m) of the current gate, if known."""
        if self._target is None or self._target.yaw is None:
            return None
        tags = self.leg.tags
        if all(tag in self._gate_tags for tag in tags):
            left, right = (self._gate_tags[tag].xy for tag in tags)
            return self._target.xy, self._target.yaw, math.dist(left, right) / 2.0
        return self._target.xy, self._target.yaw, self.config.gate_half_width

    def _crosses_gate(self, a: Point, b: Point) -> bool:
        """True if the step a -> b crosses the gate line forwards, between the posts (with margin)."""
        line = self._gate_line()
        if line is None:
            return False
        (mx, my), yaw, half_width = line
        ux, uy = math.cos(yaw), math.sin(yaw)
        da = (a[0] - mx) * ux + (a[1] - my) * uy
        db = (b[0] - mx) * ux + (b[1] - my) * uy
        if not da < 0.0 <= db:
            return False
        t = da / (da - db)
        cx, cy = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
        lateral = -(cx - mx) * uy + (cy - my) * ux
        return abs(lateral) <= half_width - self.config.gate_pass_margin

    # ------------------------------------------------ guards
    def _guard(self, name: str | None) -> bool:
        if name is None:
            return True
        if name.startswith('not '):
            return not self._guard(name[4:])
        return bool(getattr(self, f'_g_{name}')())

    def _g_legs_left(self) -> bool:
        return self.leg_index < len(self.legs)

    def _g_all_ok(self) -> bool:
        return all(r.outcome in ('SUCCEEDED', 'SKIPPED') for r in self.results)

    def _g_gnss_leg(self) -> bool:
        return self.leg is not None and self.leg.kind == 'gnss'

    def _g_target_known(self) -> bool:
        return self._target is not None

    def _g_retries_left(self) -> bool:
        return self._retries < self.config.nav_retries

    def _g_search_points_left(self) -> bool:
        return self._search_index + 1 < len(self._search_points)

    def _g_approach_stages_left(self) -> bool:
        return self._approach_stage + 1 < len(self._approach_goals())

    def _g_target_still_far(self) -> bool:
        """A post or object approach ended farther from the (refined) target than it should have."""
        leg, c = self.leg, self.config
        if leg is None or leg.kind not in ('post', 'object') or self.pose is None or self._target is None:
            return False
        standoff = c.object_standoff if leg.kind == 'object' else c.approach_standoff
        limit = standoff + c.approach_goal_tolerance + c.arrive_margin
        return math.dist(self.pose[:2], self._target.xy) > limit and self._retries < c.nav_retries

    def _g_within_leg_tolerance(self) -> bool:
        """A post or object approach could not reach its standoff point, but the rover is already within
        the leg's tolerance of the target estimate (the standoff point lay in the target's own margin)."""
        leg = self.leg
        if leg is None or leg.kind not in ('post', 'object') or self.pose is None or self._target is None:
            return False
        return math.dist(self.pose[:2], self._target.xy) <= leg.tolerance

    def _g_gate_missed(self) -> bool:
        """At the end of a gate's last approach stage without having passed between its posts."""
        return self.leg is not None and self.leg.kind == 'gate' and not self._gate_crossed

    def _g_gate_missed_retries_left(self) -> bool:
        return self._g_gate_missed() and self._gate_retries < self.config.nav_retries

    def _g_auto_resume(self) -> bool:
        """resume_after_takeover is set and neither the operator nor the e-stop paused before or during
        the takeover."""
        return self.config.resume_after_takeover and not self._operator_paused and not self.estop_latched

    def _g_estop(self) -> bool:
        return self.estop_latched

    def _g_leg_in_progress(self) -> bool:
        return self.history in LEG_STATES

    # ------------------------------------------------ actions
    def _fire(self, row: Transition) -> None:
        getattr(self, f'_a_{row.action}')()
        if row.target != HISTORY:          # HISTORY rows run 'resume', which restores the state itself
            self.state = row.target

    def _send(self, x: float, y: float, yaw: float | None, tolerance: float, purpose: str) -> None:
        self._goal_id += 1
        self._last_goal = NavGoal(self._goal_id, x, y, yaw, tolerance, purpose)
        self._nav_active = True
        self._commands.append(self._last_goal)

    def _cancel_nav(self) -> None:
        if self._nav_active:
            self._nav_active = False
            self._commands.append(CancelNav())

    def _end_leg(self, outcome: str, message: str) -> None:
        result = self.results[self.leg_index]
        result.outcome, result.message = outcome, message
        result.duration = self.leg_elapsed(self._now)
        result.final_distance = self.distance_to_target()
        self.message = f'leg {self.leg_index + 1} ({self.leg.name}): {outcome.lower()}' + (
            f': {message}' if message else '')
        self.leg_index += 1

    def _a_none(self) -> None:
        pass

    def _a_keep_paused(self) -> None:
        self._operator_paused = True

    def _a_estop_pause(self) -> None:
        self._a_pause()
        self._a_estop_hold()

    def _a_estop_hold(self) -> None:
        self._operator_paused = True
        self.message = 'paused by the e-stop: reset it, then mission/resume'

    def _a_start(self) -> None:
        if self.pose is not None:
            self.start_xy = self.pose[:2]

    def _a_begin_leg(self) -> None:
        leg = self.leg
        self._retries, self._target, self._planned_target = 0, None, None
        self._gate_tags, self._search_points, self._search_index, self._approach_stage = {}, [], 0, 0
        self.sightings = []
        self._leg_started, self._paused_total, self._paused_since = self._now, 0.0, None
        self._send_leg_goal()
        self.message = f'leg {self.leg_index + 1}/{len(self.legs)} ({leg.name}, {leg.kind})'

    def _send_leg_goal(self) -> None:
        leg = self.leg
        fraction = self.config.goal_tolerance_fraction
        tolerance = leg.tolerance * fraction if leg.kind == 'gnss' else self.config.search_goal_tolerance
        self._send(leg.xy[0], leg.xy[1], None, tolerance, 'leg')

    def _a_retry_nav(self) -> None:
        self._retries += 1
        goal = self._last_goal
        self._send(goal.x, goal.y, goal.yaw, goal.tolerance, goal.purpose)

    def _a_begin_search(self) -> None:
        leg, c = self.leg, self.config
        start_angle = 0.0 if self.pose is None else self.pose[2]
        points = search.pattern(c.search_pattern, leg.xy, leg.search_radius, c.detection_range,
                                overlap=c.search_overlap, start_angle=start_angle)
        scan = []
        if c.search_scan and self.pose is not None:
            x, y, yaw = self.pose
            scan = [(x, y, wrap_angle(yaw + k * 2.0 * math.pi / 3.0)) for k in (1, 2, 3)]
        self._search_points = scan + [(px, py, None) for px, py in points]
        self._search_index = 0
        self._send_search_point()

    def _send_search_point(self) -> None:
        x, y, yaw = self._search_points[self._search_index]
        self._send(x, y, yaw, self.config.search_goal_tolerance, 'search')

    def _a_next_search_point(self) -> None:
        self._search_index += 1
        self._send_search_point()

    def _approach_goals(self) -> list[tuple[float, float, float | None, float]]:
        """(x, y, yaw, tolerance) goals bringing the rover to the current target."""
        c, leg = self.config, self.leg
        tx, ty = self._target.xy
        if leg.kind == 'gate':
            yaw = self._target.yaw
            if yaw is None:   # direction unknown: cross along the line from the rover
                rx, ry = self.pose[:2] if self.pose else leg.xy
                yaw = math.atan2(ty - ry, tx - rx)
            ux, uy = math.cos(yaw), math.sin(yaw)
            # Entry (aligned), the midpoint itself, exit: a goal between the posts keeps the planner
            # from preferring a wider, cheaper way around a post to the exit point.
            return [(tx - ux * c.gate_entry_distance, ty - uy * c.gate_entry_distance, yaw,
                     c.approach_goal_tolerance),
                    (tx, ty, None, c.approach_goal_tolerance),
                    (tx + ux * c.gate_exit_distance, ty + uy * c.gate_exit_distance, None,
                     c.approach_goal_tolerance)]
        rx, ry = self.pose[:2] if self.pose else leg.xy
        distance = math.hypot(tx - rx, ty - ry)
        if distance < 1e-6:
            return [(rx, ry, None, c.approach_goal_tolerance)]
        standoff = min(c.object_standoff if leg.kind == 'object' else c.approach_standoff, distance)
        return [(tx - (tx - rx) / distance * standoff, ty - (ty - ry) / distance * standoff, None,
                 c.approach_goal_tolerance)]

    def _send_approach_stage(self) -> None:
        goals = self._approach_goals()
        self._approach_stage = min(self._approach_stage, len(goals) - 1)
        x, y, yaw, tolerance = goals[self._approach_stage]
        self._planned_target = self._target.xy
        self._send(x, y, yaw, tolerance, f'approach{self._approach_stage}')

    def _a_begin_approach(self) -> None:
        self._cancel_nav()
        self._retries, self._approach_stage, self._gate_crossed, self._gate_retries = 0, 0, False, 0
        self._send_approach_stage()

    def _a_reapproach(self) -> None:
        """The target estimate moved while the rover drove: approach the refined one."""
        self._retries += 1
        self._send_approach_stage()

    def _a_retry_gate(self) -> None:
        """The exit point was reached around the gate, not through it: back to the entry point."""
        self._gate_retries += 1
        self._retries, self._approach_stage, self._gate_crossed = 0, 0, False
        self.message = f'leg {self.leg_index + 1} ({self.leg.name}): missed the gate, trying again'
        self._send_approach_stage()

    def _a_fail_gate(self) -> None:
        self._cancel_nav()
        self._end_leg('FAILED', f'did not pass between the posts in {self._gate_retries + 1} tries')

    def _a_next_approach_stage(self) -> None:
        self._retries = 0
        self._approach_stage += 1
        self._send_approach_stage()

    def _a_replan_approach(self) -> None:
        self._cancel_nav()
        self._send_approach_stage()

    def _a_arrive(self) -> None:
        self._cancel_nav()
        self._arrived_since = self._now
        self.message = f'arrived at leg {self.leg_index + 1} ({self.leg.name})'

    def _a_succeed_leg(self) -> None:
        self._end_leg('SUCCEEDED', '')

    def _a_fail_leg(self) -> None:
        reason = ('target not found' if self.state is State.SEARCH
                  else f'navigation failed {self._retries + 1} times')
        self._cancel_nav()
        self._end_leg('FAILED', reason)

    def _a_time_out_leg(self) -> None:
        self._cancel_nav()
        self._end_leg('TIMED_OUT', f'no arrival within {self.leg.timeout:g} s')

    def _a_skip_leg(self) -> None:
        self._cancel_nav()
        self._end_leg('SKIPPED', 'skipped by the operator')

    def _a_skip_leg_paused(self) -> None:
        self._end_leg('SKIPPED', 'skipped by the operator')
        self.history = State.NEXT_LEG

    def _a_pause(self) -> None:
        self._cancel_nav()
        self.history = self.state
        self._paused_since = self._now
        self.message = 'paused' if self.state is not State.TELEOP else self.message

    def _a_resume(self) -> None:
        if self._paused_since is not None:
            self._paused_total += self._now - self._paused_since
            self._paused_since = None
        state, self.history, self._operator_paused = self.history, None, False
        self.state = state
        if state is State.NAVIGATE:
            self._retries = 0
            self._send_leg_goal()
        elif state is State.SEARCH:
            self._send_search_point()
        elif state is State.APPROACH:
            self._send_approach_stage()
        elif state is State.ARRIVED:
            self._arrived_since = self._now
        elif state is State.RETURNING:
            goal = self._last_goal
            self._send(goal.x, goal.y, None, goal.tolerance, 'return')
        self.message = f'resumed {state.value}'

    def _a_begin_return(self) -> None:
        self._cancel_nav()
        previous = self.leg_index - 1   # the leg before the current (or next, between legs) one
        if self.history in LEG_STATES or self.state in LEG_STATES:
            self._end_leg('ABORTED', 'abort and return')
        self.history, self._paused_since, self._operator_paused = None, None, False
        if previous >= 0:
            goal = self.legs[previous].xy
            where = f'leg {previous + 1} ({self.legs[previous].name})'
        else:
            goal = self.start_xy or (self.pose[:2] if self.pose else self.legs[0].xy)
            where = 'the start'
        self._retries = 0
        self._return_where = where
        tolerance = self.config.goal_tolerance_fraction * self.legs[max(previous, 0)].tolerance   # as gnss
        self._send(goal[0], goal[1], None, tolerance, 'return')
        self.message = f'returning to {where}'

    def _a_cancel(self) -> None:
        self._cancel_nav()
        if self.leg is not None and (self.state in LEG_STATES or self.history in LEG_STATES):
            self._end_leg('ABORTED', 'mission canceled')
        self.message = 'canceled'

    def _a_returned(self) -> None:
        self.message = f'aborted; {self._return_where} reached'

    def _a_return_failed(self) -> None:
        self.message = f'aborted; could not drive back to {self._return_where}'

    def _a_finish(self) -> None:
        ok = sum(r.outcome in ('SUCCEEDED', 'SKIPPED') for r in self.results)
        self.message = f'mission over: {ok}/{len(self.results)} legs succeeded or skipped'


def targets_from_mission(mission, plane=None) -> list[LegTarget]:
    """LegTargets of a mission.Mission in the map frame of ``plane`` (default: its datum's plane)."""
    positions = mission.to_local(plane)
    return [LegTarget(kind=leg.kind, name=leg.name, xy=positions[i], tolerance=leg.tolerance,
                      timeout=leg.timeout, search_radius=leg.search_radius, tags=leg.tags, object=leg.object)
            for i, leg in enumerate(mission.legs)]


# ---------------------------------------------------------------- diagram

def _label(row: Transition) -> str:
    text = row.event.value + (f' [{row.guard}]' if row.guard else '')
    return text + (f' / {row.action}' if row.action != 'none' else '')


def diagram(fmt: str = 'mermaid') -> str:
    """The transition table as a Mermaid stateDiagram or a Graphviz digraph."""
    def name(target) -> str:
        return 'H' if target == HISTORY else target.name

    if fmt == 'mermaid':
        lines = ['stateDiagram-v2', '    [*] --> IDLE', '    state NEXT_LEG <<choice>>']
        lines += [f'    {name(r.source)} --> {name(r.target)}: {_label(r)}' for r in TRANSITIONS]
        lines += [f'    {s.name} --> [*]' for s in State if s in TERMINAL]
        return '\n'.join(lines) + '\n'
    if fmt == 'dot':
        lines = ['digraph mission_executive {', '  rankdir=LR;', '  NEXT_LEG [shape=diamond];',
                 '  H [shape=circle, label="H"];']
        lines += [f'  {s.name} [shape=doublecircle];' for s in State if s in TERMINAL]
        lines += [f'  {name(r.source)} -> {name(r.target)} [label="{_label(r)}"];' for r in TRANSITIONS]
        return '\n'.join(lines) + '\n}\n'
    raise ValueError(f'unknown diagram format {fmt!r}; use mermaid or dot')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description='Mission executive state machine')
    parser.add_argument('--diagram', action='store_true', help='print the state diagram')
    parser.add_argument('--format', choices=('mermaid', 'dot'), default='mermaid')
    args = parser.parse_args(argv)
    if not args.diagram:
        parser.print_help()
        return 0
    sys.stdout.write(diagram(args.format))
    return 0


if __name__ == '__main__':
    sys.exit(main())
