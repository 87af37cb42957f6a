"""Every row of the mission executive's transition table, plus the behaviour around it."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from rover_stack.autonomy.executive import (
    HISTORY,
    TRANSITIONS,
    CancelNav,
    Event,
    Executive,
    ExecutiveConfig,
    LegTarget,
    NavGoal,
    State,
    diagram,
    gate_from_tags,
    main,
)

E, S = Event, State
LEGS = {
    'gnss': LegTarget('gnss', 'wp', (10.0, 0.0), 2.0, 100.0, 10.0),
    'gnss2': LegTarget('gnss', 'wp2', (20.0, 5.0), 2.0, 100.0, 10.0),
    'post': LegTarget('post', 'p1', (20.0, 0.0), 2.0, 100.0, 8.0, tags=(1,)),
    'gate': LegTarget('gate', 'g1', (30.0, 0.0), 2.0, 100.0, 8.0, tags=(3, 4)),
    'object': LegTarget('object', 'o1', (40.0, 0.0), 2.0, 100.0, 8.0, object='mallet'),
}


class Harness:
    """An executive driven by a fake clock, recording the commands it queues."""

    def __init__(self, *kinds, config=None, start_leg=0):
        self.ex = Executive([LEGS[k] for k in kinds], config or ExecutiveConfig(nav_retries=1), start_leg)
        self.t = 0.0
        self.commands: list = []
        self.ex.update_pose(0.0, 0.0, 0.0)

    def fire(self, event: Event, **kwargs) -> bool:
        handled = self.ex.handle(event, self.t, **kwargs)
        self.commands += self.ex.take_commands()
        return handled

    @property
    def goal(self) -> NavGoal:
        return [c for c in self.commands if isinstance(c, NavGoal)][-1]

    def nav(self, ok: bool = True, move: bool = True) -> bool:
        """The navigator's answer to the newest goal; a success leaves the rover at the goal."""
        goal = self.goal
        if ok and move:
            self.ex.update_pose(goal.x, goal.y, goal.yaw if goal.yaw is not None else self.ex.pose[2])
        return self.fire(E.NAV_SUCCEEDED if ok else E.NAV_FAILED, goal_id=goal.goal_id)

    def see(self, kind='marker', key=1, xy=(21.0, 1.0), yaw=None, distance=None):
        self.ex.observe(kind, key, xy, yaw, self.t, distance=distance)
        self.commands += self.ex.take_commands()

    def estop(self, latched: bool):
        self.ex.set_estop(latched, self.t)
        self.commands += self.ex.take_commands()

    def tick(self, dt: float):
        self.t += dt
        self.ex.tick(self.t)
        self.commands += self.ex.take_commands()

    def outcome(self, i: int) -> str:
        return self.ex.results[i].outcome


# ------------------------------------------------------------- ways to reach each state
def navigate(*kinds, **kw):
    h = Harness(*kinds, **kw)
    h.fire(E.START)
    return h


def search(**kw):
    h = navigate('post', 'gnss', **kw)
    h.nav()
    return h


def approach(kind='post', **kw):
    h = navigate(kind, 'gnss', **kw)
    if kind == 'gate':
        h.see('gate', (3, 4), (30.0, 0.5), 0.0)
    else:
        h.see('marker', 1, (21.0, 1.0))
    return h


def gate_unpassed(**kw):
    """Approaching a gate with a navigator that reports success without moving the rover."""
    h = approach('gate', **kw)
    h.nav = lambda ok=True, move=False, _nav=h.nav: _nav(ok, move=False)
    return h


def arrived(**kw):
    h = navigate('gnss', 'gnss2', **kw)
    h.nav()
    return h


def paused(**kw):
    h = navigate('gnss', 'gnss2', **kw)
    h.fire(E.PAUSE)
    return h


def teleop(**kw):
    h = navigate('gnss', 'gnss2', **kw)
    h.fire(E.TAKEOVER)
    return h


def returning(**kw):
    h = navigate('gnss', 'gnss2', **kw)
    h.nav()
    h.tick(10.0)           # hold done -> leg 2
    h.fire(E.ABORT_RETURN)
    return h


def exhaust_retries(h):
    for _ in range(h.ex.config.nav_retries):
        h.nav(ok=False)


def last_search_point(h):
    while len([c for c in h.commands if isinstance(c, NavGoal) and c.purpose == 'search']) < len(
            h.ex._search_points):
        h.nav()


# (source, event, guard) -> (setup, action before the event or None, expected state, check)
CASES = {
    (S.IDLE, E.START, None): (lambda: Harness('gnss'), None, S.NAVIGATE,
                              lambda h: h.goal.purpose == 'leg' and (h.goal.x, h.goal.y) == (10.0, 0.0)),
    (S.IDLE, E.CANCEL, None): (lambda: Harness('gnss'), None, S.CANCELED,
                               lambda h: h.outcome(0) == 'PENDING'),
    (S.NEXT_LEG, E.CONTINUE, 'legs_left'): (arrived, lambda h: h.tick(10.0), S.NAVIGATE,
                                            lambda h: h.ex.leg_index == 1 and h.outcome(0) == 'SUCCEEDED'),
    (S.NEXT_LEG, E.CONTINUE, 'all_ok'): (lambda: navigate('gnss'), lambda h: h.nav() and h.tick(10.0),
                                         S.SUCCEEDED, lambda h: h.ex.success),
    (S.NEXT_LEG, E.CONTINUE, None): (lambda: navigate('gnss'), lambda h: h.tick(1000.0), S.FAILED,
                                     lambda h: h.outcome(0) == 'TIMED_OUT' and not h.ex.success),
    (S.NAVIGATE, E.NAV_SUCCEEDED, 'gnss_leg'): (lambda: navigate('gnss'), None, S.ARRIVED, None),
    (S.NAVIGATE, E.NAV_SUCCEEDED, 'target_known'): (
        lambda: navigate('post'), lambda h: (h.fire(E.PAUSE) and h.see()) or h.fire(E.RESUME), S.APPROACH,
        lambda h: h.goal.purpose == 'approach0'),
    (S.NAVIGATE, E.NAV_SUCCEEDED, None): (lambda: navigate('post'), None, S.SEARCH,
                                          lambda h: h.goal.purpose == 'search'),
    (S.NAVIGATE, E.NAV_FAILED, 'retries_left'): (lambda: navigate('gnss'), None, S.NAVIGATE,
                                                 lambda h: h.goal.goal_id == 2),
    (S.NAVIGATE, E.NAV_FAILED, None): (lambda: navigate('gnss', 'gnss2'), exhaust_retries, S.NAVIGATE,
                                       lambda h: h.outcome(0) == 'FAILED' and h.ex.leg_index == 1),
    (S.NAVIGATE, E.TARGET_CONFIRMED, None): (lambda: navigate('post'), None, S.APPROACH,
                                             lambda h: h.goal.purpose == 'approach0'),
    (S.SEARCH, E.NAV_SUCCEEDED, 'search_points_left'): (search, None, S.SEARCH,
                                                        lambda h: h.ex._search_index == 1),
    (S.SEARCH, E.NAV_SUCCEEDED, None): (search, last_search_point, S.NAVIGATE,
                                        lambda h: h.outcome(0) == 'FAILED'
                                        and 'not found' in h.ex.results[0].message),
    (S.SEARCH, E.NAV_FAILED, 'search_points_left'): (search, None, S.SEARCH,
                                                     lambda h: h.ex._search_index == 1),
    (S.SEARCH, E.NAV_FAILED, None): (search, last_search_point, S.NAVIGATE,
                                     lambda h: h.outcome(0) == 'FAILED'),
    (S.SEARCH, E.TARGET_CONFIRMED, None): (search, None, S.APPROACH,
                                           lambda h: isinstance(h.commands[-2], CancelNav)),
    (S.APPROACH, E.NAV_SUCCEEDED, 'target_still_far'): (     # refined by 2.5 m: less than replan_distance
        lambda: approach(config=ExecutiveConfig(nav_retries=1, replan_distance=5.0)),
        lambda h: h.see('marker', 1, (26.0, 1.0), distance=1.0), S.APPROACH,
        lambda h: h.goal.purpose == 'approach0' and h.ex._retries == 1 and h.goal.x > 22.0),
    (S.APPROACH, E.NAV_SUCCEEDED, 'approach_stages_left'): (
        lambda: approach('gate'), None, S.APPROACH, lambda h: h.goal.purpose == 'approach1'),
    (S.APPROACH, E.NAV_SUCCEEDED, 'gate_missed_retries_left'): (
        gate_unpassed, lambda h: h.nav() and h.nav(), S.APPROACH,
        lambda h: h.goal.purpose == 'approach0' and h.ex._gate_retries == 1),
    (S.APPROACH, E.NAV_SUCCEEDED, 'gate_missed'): (
        gate_unpassed, lambda h: all(h.nav() for _ in range(5)), S.NAVIGATE,
        lambda h: h.outcome(0) == 'FAILED' and h.ex.leg_index == 1),
    (S.APPROACH, E.NAV_SUCCEEDED, None): (approach, None, S.ARRIVED, None),
    (S.APPROACH, E.NAV_FAILED, 'retries_left'): (approach, None, S.APPROACH,
                                                 lambda h: h.goal.purpose == 'approach0'),
    (S.APPROACH, E.NAV_FAILED, 'within_leg_tolerance'): (
        approach, lambda h: h.ex.update_pose(20.0, 0.0, 0.0) or exhaust_retries(h), S.ARRIVED,
        lambda h: 'arrived' in h.ex.message),
    (S.APPROACH, E.NAV_FAILED, None): (approach, exhaust_retries, S.NAVIGATE,
                                       lambda h: h.outcome(0) == 'FAILED'),
    (S.APPROACH, E.TARGET_MOVED, None): (approach, None, S.APPROACH, lambda h: h.goal.goal_id == 3),
    (S.ARRIVED, E.HOLD_DONE, None): (arrived, None, S.NAVIGATE, lambda h: h.outcome(0) == 'SUCCEEDED'),
    (S.PAUSED, E.RESUME, 'not estop'): (paused, None, S.NAVIGATE, lambda h: h.goal.purpose == 'leg'),
    (S.PAUSED, E.ESTOP, None): (paused, None, S.PAUSED, lambda h: 'e-stop' in h.ex.message),
    (S.TELEOP, E.ESTOP, None): (teleop, lambda h: h.ex.set_estop(False, h.t), S.TELEOP,
                                lambda h: h.fire(E.RELEASE) and h.ex.state is S.PAUSED),
    (S.RETURNING, E.ESTOP, None): (returning, None, S.PAUSED,
                                   lambda h: isinstance(h.commands[-1], CancelNav)
                                   and h.ex.history is S.RETURNING),
    (S.PAUSED, E.TAKEOVER, None): (paused, None, S.TELEOP, None),
    (S.PAUSED, E.SKIP, 'leg_in_progress'): (paused, None, S.PAUSED,
                                            lambda h: h.outcome(0) == 'SKIPPED' and h.ex.history is S.NEXT_LEG),
    (S.PAUSED, E.ABORT_RETURN, None): (paused, None, S.RETURNING,
                                       lambda h: h.outcome(0) == 'ABORTED' and h.goal.purpose == 'return'),
    (S.PAUSED, E.CANCEL, None): (paused, None, S.CANCELED, lambda h: h.outcome(0) == 'ABORTED'),
    (S.TELEOP, E.RELEASE, 'auto_resume'): (teleop, None, S.NAVIGATE, lambda h: h.goal.goal_id == 2),
    (S.TELEOP, E.RELEASE, None): (lambda: teleop(config=ExecutiveConfig(resume_after_takeover=False)),
                                  None, S.PAUSED, None),
    (S.TELEOP, E.SKIP, 'leg_in_progress'): (teleop, None, S.TELEOP, lambda h: h.outcome(0) == 'SKIPPED'),
    (S.TELEOP, E.CANCEL, None): (teleop, None, S.CANCELED, lambda h: h.outcome(0) == 'ABORTED'),
    (S.RETURNING, E.NAV_SUCCEEDED, None): (returning, None, S.ABORTED, lambda h: 'reached' in h.ex.message),
    (S.RETURNING, E.NAV_FAILED, 'retries_left'): (returning, None, S.RETURNING,
                                                  lambda h: h.goal.purpose == 'return'),
    (S.RETURNING, E.NAV_FAILED, None): (returning, exhaust_retries, S.ABORTED,
                                        lambda h: 'could not' in h.ex.message),
    (S.RETURNING, E.PAUSE, None): (returning, None, S.PAUSED, None),
    (S.RETURNING, E.TAKEOVER, None): (returning, None, S.TELEOP, None),
    (S.RETURNING, E.CANCEL, None): (returning, None, S.CANCELED, None),
}
# Rows shared by the leg states (_common): one setup per state.
LEG_SETUPS = {S.NAVIGATE: lambda: navigate('gnss', 'gnss2'), S.SEARCH: search, S.APPROACH: approach,
              S.ARRIVED: arrived}
for _state, _setup in LEG_SETUPS.items():
    CASES[(_state, E.SKIP, None)] = (
        _setup, None, S.NAVIGATE,
        lambda h, s=_state: h.outcome(0) == ('SUCCEEDED' if s is S.ARRIVED else 'SKIPPED') and h.ex.leg_index == 1)
    CASES[(_state, E.PAUSE, None)] = (_setup, None, S.PAUSED, lambda h, s=_state: h.ex.history is s)
    CASES[(_state, E.ESTOP, None)] = (_setup, None, S.PAUSED,
                                      lambda h, s=_state: h.ex.history is s and 'e-stop' in h.ex.message)
    CASES[(_state, E.TAKEOVER, None)] = (_setup, None, S.TELEOP, lambda h, s=_state: h.ex.history is s)
    CASES[(_state, E.ABORT_RETURN, None)] = (
        _setup, None, S.RETURNING, lambda h: h.outcome(0) == 'ABORTED' and (h.goal.x, h.goal.y) == (0.0, 0.0))
    CASES[(_state, E.CANCEL, None)] = (_setup, None, S.CANCELED, lambda h: h.outcome(0) == 'ABORTED')
    if _state is not S.ARRIVED:
        CASES[(_state, E.LEG_TIMEOUT, None)] = (
            _setup, None, S.NAVIGATE, lambda h: h.outcome(0) == 'TIMED_OUT' and h.ex.leg_index == 1)

# Events that are raised by the executive itself: the case fires them through their real cause.
INTERNAL = {E.CONTINUE: None, E.TARGET_CONFIRMED: lambda h: h.see(), E.HOLD_DONE: lambda h: h.tick(10.0),
            E.LEG_TIMEOUT: lambda h: h.tick(1000.0), E.ESTOP: lambda h: h.estop(True),
            E.TARGET_MOVED: lambda h: h.see('marker', 1, (25.0, 3.0)) or h.see('marker', 1, (25.0, 3.0))}


def test_every_row_has_a_case():
    rows = {(r.source, r.event, r.guard) for r in TRANSITIONS}
    assert rows == set(CASES), (rows ^ set(CASES))


@pytest.mark.parametrize('key', list(CASES), ids=lambda k: f'{k[0].name}-{k[1].name}-{k[2]}')
def test_transition(key):
    source, event, _guard = key
    setup, before, expected, check = CASES[key]
    h = setup()
    if event is E.CONTINUE:
        before(h)
    else:
        if before is not None:
            before(h)
        assert h.ex.state is source
        if event in INTERNAL:
            INTERNAL[event](h)
        elif event in (E.NAV_SUCCEEDED, E.NAV_FAILED):
            assert h.nav(ok=event is E.NAV_SUCCEEDED)
        else:
            assert h.fire(event)
    assert h.ex.state is expected, h.ex.message
    if check is not None:
        assert check(h), h.ex.message


def test_unlisted_events_are_refused():
    h = navigate('gnss')
    assert not h.fire(E.RESUME) and not h.fire(E.RELEASE)
    assert h.ex.state is S.NAVIGATE
    h = Harness('gnss')
    assert not h.fire(E.SKIP) and h.ex.state is S.IDLE


def test_stale_nav_results_are_ignored():
    h = navigate('gnss')
    old = h.goal.goal_id
    h.nav(ok=False)                        # retry -> a new goal id
    assert not h.fire(E.NAV_SUCCEEDED, goal_id=old)
    assert h.ex.state is S.NAVIGATE


def test_history_pseudo_state_only_on_resume_rows():
    assert all(r.action == 'resume' for r in TRANSITIONS if r.target == HISTORY)


def test_leg_clock_stops_while_paused():
    h = navigate('gnss')
    h.tick(50.0)
    h.fire(E.PAUSE)
    h.tick(500.0)                         # paused: no timeout
    assert h.ex.state is S.PAUSED
    h.fire(E.RESUME)
    h.tick(40.0)
    assert h.ex.state is S.NAVIGATE and h.ex.leg_elapsed(h.t) == pytest.approx(90.0)
    h.tick(20.0)
    assert h.ex.results[0].outcome == 'TIMED_OUT'


def test_takeover_of_an_operator_pause_returns_to_paused():
    h = paused()
    h.fire(E.TAKEOVER)
    h.fire(E.RELEASE)
    assert h.ex.state is S.PAUSED


def test_an_estop_reset_alone_never_resumes_the_mission():
    """Issue #18 item 6: latched -> paused; resume refused while latched; after the reset still paused
    (no goal sent) until RESUME."""
    h = navigate('gnss', 'gnss2')
    h.estop(True)
    assert h.ex.state is S.PAUSED and isinstance(h.commands[-1], CancelNav)
    goals = len([c for c in h.commands if isinstance(c, NavGoal)])
    assert not h.fire(E.RESUME) and h.ex.state is S.PAUSED
    h.estop(False)
    h.tick(1.0)
    assert h.ex.state is S.PAUSED
    assert len([c for c in h.commands if isinstance(c, NavGoal)]) == goals, 'a goal was sent without a resume'
    assert h.fire(E.RESUME) and h.ex.state is S.NAVIGATE and h.goal.purpose == 'leg'


def test_a_takeover_release_does_not_resume_after_an_estop():
    h = navigate('gnss')
    h.fire(E.TAKEOVER)
    h.estop(True)
    h.estop(False)
    h.fire(E.RELEASE)
    assert h.ex.state is S.PAUSED


def test_a_mission_started_while_the_estop_is_latched_waits_paused():
    h = Harness('gnss')
    h.estop(True)
    h.fire(E.START)
    assert h.ex.state is S.PAUSED and h.ex.history is S.NAVIGATE
    assert isinstance(h.commands[-1], CancelNav)
    h.estop(False)
    assert h.fire(E.RESUME) and h.ex.state is S.NAVIGATE


def test_a_restored_run_is_held_paused_until_resume():
    h = Harness('gnss', 'gnss2', start_leg=1)
    h.ex.hold_after_restart(h.t)
    h.commands += h.ex.take_commands()
    assert h.ex.state is S.PAUSED and h.ex.leg_index == 1 and 'restored' in h.ex.message
    assert isinstance(h.commands[-1], CancelNav)
    h.fire(E.TAKEOVER)
    h.fire(E.RELEASE)
    assert h.ex.state is S.PAUSED, 'a takeover release resumed a restored run'
    assert h.fire(E.RESUME) and h.ex.state is S.NAVIGATE and (h.goal.x, h.goal.y) == LEGS['gnss2'].xy


def test_a_restored_return_is_held_paused_and_resumes_the_return():
    h = returning()
    goal = h.ex.return_goal
    assert goal == (*LEGS['gnss'].xy, pytest.approx(0.8), 'leg 1 (wp)')
    again = Harness('gnss', 'gnss2', start_leg=2)
    again.ex.hold_after_restart(again.t, goal)
    assert again.ex.state is S.PAUSED and again.ex.return_goal == goal and not again.ex.take_commands()
    assert again.fire(E.RESUME) and again.ex.state is S.RETURNING
    assert (again.goal.x, again.goal.y, again.goal.purpose) == (*LEGS['gnss'].xy, 'return')
    assert again.nav() and again.ex.state is S.ABORTED


def test_resume_after_skip_while_paused_starts_the_next_leg():
    h = paused()
    h.fire(E.SKIP)
    h.fire(E.RESUME)
    assert h.ex.state is S.NAVIGATE and h.ex.leg_index == 1 and (h.goal.x, h.goal.y) == (20.0, 5.0)


def test_abort_and_return_goes_to_the_previous_leg():
    h = returning()
    assert (h.goal.x, h.goal.y) == LEGS['gnss'].xy
    assert h.goal.tolerance == pytest.approx(0.4 * LEGS['gnss'].tolerance)   # as tight as a gnss leg's goal
    assert [r.outcome for r in h.ex.results] == ['SUCCEEDED', 'ABORTED']


def drive(h, *points):
    """The rover's track through ``points`` (map m), in 0.2 m steps."""
    x, y = h.ex.pose[:2]
    for px, py in points:
        steps = max(1, round(math.dist((x, y), (px, py)) / 0.2))
        for k in range(1, steps + 1):
            h.ex.update_pose(x + (px - x) * k / steps, y + (py - y) * k / steps, 0.0)
        x, y = px, py


def test_gate_approach_aligns_with_the_normal_and_crosses_the_midpoint():
    h = approach('gate')
    entry = h.goal
    assert (entry.x, entry.y) == pytest.approx((30.0 - 2.5, 0.5)) and entry.yaw == pytest.approx(0.0)
    drive(h, (27.5, 0.5))
    h.nav()
    assert (h.goal.x, h.goal.y) == pytest.approx((30.0, 0.5)) and h.goal.purpose == 'approach1'  # between
    drive(h, (30.0, 0.5))
    h.nav()
    assert (h.goal.x, h.goal.y) == pytest.approx((32.0, 0.5)) and h.goal.purpose == 'approach2'
    drive(h, (32.0, 0.5))
    h.nav()
    assert h.ex.state is S.ARRIVED


@pytest.mark.parametrize('track', [
    [(27.5, 0.5), (28.5, 3.0), (31.0, 3.0), (32.0, 0.5)],     # around the left post (gate half width 1 m)
    [(27.5, 0.5), (28.5, -2.0), (31.0, -2.0), (32.0, 0.5)],   # around the right post
    [(30.0, 5.0), (34.0, 5.0), (34.0, 0.5), (26.0, 0.5), (26.0, 5.0), (32.0, 5.0), (32.0, 0.5)],  # backwards
])
def test_reaching_the_exit_around_the_gate_retries_then_fails_the_leg(track):
    h = approach('gate')                        # nav_retries 1
    drive(h, *track)
    for _ in range(3):
        h.nav(move=False)                       # the rover stays where the track left it
    assert h.ex.state is S.APPROACH and h.goal.purpose == 'approach0' and 'missed the gate' in h.ex.message
    drive(h, *track)
    for _ in range(3):
        h.nav(move=False)
    assert h.outcome(0) == 'FAILED' and 'between the posts' in h.ex.results[0].message


def test_a_gate_seen_as_two_markers_is_checked_against_their_width():
    h = navigate('gate')
    h.see('marker', 3, (30.0, 2.5))            # a 5 m wide gate: left post north
    h.see('marker', 4, (30.0, -2.5))
    assert h.ex.state is S.APPROACH
    drive(h, (27.5, 0.0), (28.0, 1.8), (32.0, 1.8))   # 1.8 m off the middle: inside 2.5 - 0.3 m
    for _ in range(3):
        h.nav()
    assert h.ex.state is S.ARRIVED


def test_search_turns_once_on_the_spot_then_follows_the_pattern():
    h = search()
    scan = [c for c in h.commands if isinstance(c, NavGoal)][-1:]
    for _ in range(2):
        h.nav()
        scan.append(h.goal)
    here = h.ex.pose[:2]
    assert [g.purpose for g in scan] == ['search'] * 3 and all((g.x, g.y) == here for g in scan)
    assert [g.yaw for g in scan] == pytest.approx([2.0 * math.pi / 3.0, -2.0 * math.pi / 3.0, 0.0])
    h.nav()
    assert h.goal.yaw is None and h.ex._search_index == 3
    plain = search(config=ExecutiveConfig(search_scan=False))
    assert plain.goal.yaw is None


def test_gate_from_two_markers_and_reversed_ids():
    mid, yaw = gate_from_tags(left=(0.0, 1.0), right=(0.0, -1.0))
    assert mid == (0.0, 0.0) and yaw == pytest.approx(0.0)          # left north: cross eastward
    h = navigate('gate')
    h.see('marker', 3, (30.0, 1.0))
    assert h.ex.state is S.NAVIGATE
    h.see('marker', 4, (30.0, -1.0))
    assert h.ex.state is S.APPROACH and h.goal.yaw == pytest.approx(0.0)
    h2 = navigate('gate')
    h2.see('gate', (4, 3), (30.0, 0.0), math.pi)                    # ids swapped: same gate
    assert h2.goal.yaw == pytest.approx(0.0) or h2.goal.yaw == pytest.approx(2 * math.pi)


def test_post_approach_stops_short_of_the_post():
    h = approach()
    assert math.dist((h.goal.x, h.goal.y), (21.0, 1.0)) == pytest.approx(1.0)
    assert h.goal.tolerance + 1.0 <= LEGS['post'].tolerance


@pytest.mark.parametrize(('kind', 'key', 'xy'), [
    ('marker', 2, (21.0, 0.0)),          # wrong id
    ('object', 'bottle', (21.0, 0.0)),   # wrong kind
    ('marker', 1, (60.0, 0.0)),          # too far from the approximate location
    ('marker', 1, (math.nan, 0.0)),      # not finite
])
def test_detections_that_are_not_the_target_are_ignored(kind, key, xy):
    h = navigate('post')
    h.see(kind, key, xy)
    assert h.ex.state is S.NAVIGATE and not h.ex.target_confirmed()


def test_object_leg_end_to_end():
    h = navigate('object')
    h.nav()
    assert h.ex.state is S.SEARCH
    h.see('object', 'mallet', (42.0, 3.0))
    h.nav()
    h.tick(10.0)
    assert h.ex.state is S.SUCCEEDED
    assert h.ex.results[0].final_distance == pytest.approx(0.5)   # the navigator left it object_standoff short


def test_start_leg_and_prior_outcomes():
    ex = Executive([LEGS['gnss'], LEGS['gnss2']], start_leg=1)
    assert [r.outcome for r in ex.results] == ['SKIPPED', 'PENDING'] and ex.completed_legs == 1
    ex.handle(E.START, 0.0)
    assert ex.leg_index == 1 and ex.take_commands()[-1].x == 20.0
    done = Executive([LEGS['gnss']], start_leg=1)
    done.handle(E.START, 0.0)
    assert done.state is S.SUCCEEDED
    with pytest.raises(ValueError, match='start_leg'):
        Executive([LEGS['gnss']], start_leg=2)


def test_diagram_lists_every_transition(capsys):
    text = diagram('mermaid')
    assert text.count(' --> ') == len(TRANSITIONS) + 1 + 4
    dot = diagram('dot')
    assert dot.count(' -> ') == len(TRANSITIONS) and dot.startswith('digraph')
    assert main(['--diagram', '--format', 'dot']) == 0
    assert 'NEXT_LEG' in capsys.readouterr().out
    with pytest.raises(ValueError):
        diagram('svg')


def test_the_diagram_in_docs_is_the_current_table():
    text = (Path(__file__).resolve().parents[2] / 'docs' / 'autonomy.md').read_text()
    start = text.index('```mermaid\n') + len('```mermaid\n')
    assert text[start:text.index('```', start)].rstrip('\n') == diagram('mermaid').rstrip('\n'), \
        'docs/autonomy.md: paste `python -m rover_stack.autonomy.executive --diagram` again'


def test_sightings_of_the_current_leg_are_kept_and_replay_into_a_new_executive():
    h = Harness('gnss', 'post')
    h.fire(E.START)
    h.see('marker', 1, (21.0, 1.0))                  # a gnss leg: not its target, not kept
    assert h.ex.sightings == []
    h.nav()                                          # leg 1 reached
    h.t += 10.0
    h.fire(E.HOLD_DONE)
    assert h.ex.leg.kind == 'post' and h.ex.state is S.NAVIGATE
    h.see('marker', 7, (21.0, 1.0))                  # another tag: ignored
    h.see('marker', 1, (21.0, 1.0), distance=6.0)
    h.see('marker', 1, (21.2, 0.8), distance=3.0)
    assert [s.key for s in h.ex.sightings] == [1, 1] and h.ex.state is S.APPROACH
    # A respawned executive resumes the post leg and replays them: it approaches, without a search.
    again = Harness('gnss', 'post', start_leg=1)
    again.fire(E.START)
    assert again.ex.state is S.NAVIGATE
    for s in h.ex.sightings:
        again.see(s.kind, s.key, s.xy, s.yaw, s.distance)
    assert again.ex.state is S.APPROACH
    assert again.ex.target_xy() == pytest.approx(h.ex.target_xy())
    assert again.goal.purpose.startswith('approach')
