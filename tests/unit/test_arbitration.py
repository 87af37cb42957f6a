"""Command arbitration: priority, timeout fall-through, locks, idle zero, config validation."""
import math
from pathlib import Path

import pytest
import yaml

from rover_stack.drive.arbitration import (
    IDLE,
    ZERO_TWIST,
    Arbiter,
    ArbitrationConfigError,
    ArbitrationResult,
    config_from_dict,
)

TABLE = {
    'sources': [
        {'name': 'joystick', 'topic': 'joystick/cmd_vel', 'priority': 100, 'timeout': 0.5},
        {'name': 'base_station', 'topic': 'base_station/cmd_vel', 'priority': 50, 'timeout': 0.5},
        {'name': 'autonomy', 'topic': 'autonomy/cmd_vel', 'priority': 10, 'timeout': 1.0},
    ],
    'locks': [
        {'name': 'estop', 'topic': 'estop', 'priority': 255, 'timeout': 0.0},
        {'name': 'pause', 'topic': 'autonomy/pause', 'priority': 20, 'timeout': 0.0},
        {'name': 'link', 'topic': 'link_ok', 'priority': 60, 'timeout': 2.0},
    ],
}


def twist(vx, wz=0.0):
    return (vx, 0.0, 0.0, 0.0, 0.0, wz)


def arbiter(with_link_heartbeat_at=0.0):
    a = Arbiter(config_from_dict(TABLE))
    if with_link_heartbeat_at is not None:
        a.on_lock('link', False, with_link_heartbeat_at)
    return a


# Each case: events (time s, kind, name, value) then the expected (twist, active) at a query time.
CASES = {
    'nothing received -> idle zero': ([], 0.1, ZERO_TWIST, IDLE),
    'single source passes': ([(0.0, 'twist', 'autonomy', twist(0.4))], 0.5, twist(0.4), 'autonomy'),
    'higher priority overrides': (
        [(0.0, 'twist', 'autonomy', twist(0.4)), (0.1, 'twist', 'joystick', twist(-0.2, 0.3))],
        0.2, twist(-0.2, 0.3), 'joystick'),
    'lower priority cannot override': (
        [(0.0, 'twist', 'joystick', twist(0.1)), (0.1, 'twist', 'base_station', twist(0.9))],
        0.2, twist(0.1), 'joystick'),
    'timed-out winner falls through to the next fresh source': (
        [(0.0, 'twist', 'autonomy', twist(0.4)), (0.1, 'twist', 'joystick', twist(0.2)),
         (0.7, 'twist', 'autonomy', twist(0.5))],
        0.7, twist(0.5), 'autonomy'),
    'source exactly at its timeout is still fresh': (
        [(0.0, 'twist', 'joystick', twist(0.2))], 0.5, twist(0.2), 'joystick'),
    'all timed out -> idle zero': (
        [(0.0, 'twist', 'autonomy', twist(0.4)), (0.0, 'twist', 'joystick', twist(0.2))],
        1.01, ZERO_TWIST, IDLE),
    'estop lock beats everything': (
        [(0.0, 'twist', 'joystick', twist(0.2)), (0.1, 'lock', 'estop', True)],
        0.2, ZERO_TWIST, 'lock:estop'),
    'released lock lets the source through': (
        [(0.0, 'lock', 'estop', True), (0.1, 'lock', 'estop', False), (0.2, 'twist', 'joystick', twist(0.2))],
        0.3, twist(0.2), 'joystick'),
    'lock without timeout never expires': (
        [(0.0, 'lock', 'estop', True), (59.0, 'lock', 'link', False),
         (59.0, 'twist', 'joystick', twist(0.2))],
        59.1, ZERO_TWIST, 'lock:estop'),
    'pause lock stops autonomy': (
        [(0.0, 'twist', 'autonomy', twist(0.4)), (0.1, 'lock', 'pause', True)],
        0.2, ZERO_TWIST, 'lock:pause'),
    'pause lock lets higher-priority teleop through': (
        [(0.0, 'lock', 'pause', True), (0.1, 'twist', 'base_station', twist(0.3))],
        0.2, twist(0.3), 'base_station'),
    'engaged lock with nothing fresh reports the lock': (
        [(0.0, 'lock', 'pause', True)], 0.2, ZERO_TWIST, 'lock:pause'),
    'heartbeat lock engages when its messages stop': (
        [(0.0, 'twist', 'base_station', twist(0.3)), (2.5, 'twist', 'base_station', twist(0.3))],
        2.6, ZERO_TWIST, 'lock:link'),
    'heartbeat lock does not stop the joystick above it': (
        [(2.5, 'twist', 'joystick', twist(0.1))], 2.6, twist(0.1), 'joystick'),
    'highest engaged lock is reported': (
        [(0.0, 'lock', 'pause', True), (0.0, 'lock', 'estop', True)], 0.1, ZERO_TWIST, 'lock:estop'),
    'NaN twist is dropped, previous one kept': (
        [(0.0, 'twist', 'autonomy', twist(0.4)), (0.1, 'twist', 'autonomy', twist(math.nan))],
        0.2, twist(0.4), 'autonomy'),
    'inf twist from the top source does not win': (
        [(0.0, 'twist', 'autonomy', twist(0.4)), (0.1, 'twist', 'joystick', (0, 0, 0, 0, 0, math.inf))],
        0.2, twist(0.4), 'autonomy'),
}


@pytest.mark.parametrize('events, at, expect_twist, expect_active', CASES.values(), ids=CASES.keys())
def test_arbitration(events, at, expect_twist, expect_active):
    a = arbiter()
    for t, kind, name, value in events:
        if kind == 'twist':
            a.on_twist(name, value, t)
        else:
            a.on_lock(name, value, t)
    result = a.step(at)
    assert result.twist == pytest.approx(expect_twist)
    assert result.active == expect_active


def test_heartbeat_lock_is_engaged_before_its_first_message():
    a = arbiter(with_link_heartbeat_at=None)
    a.on_twist('base_station', twist(0.3), 0.0)
    assert a.step(0.1).active == 'lock:link'
    a.on_lock('link', False, 0.1)
    assert a.step(0.2).active == 'base_station'


def test_dropped_twists_are_counted_per_source():
    a = arbiter()
    for i in range(5):
        assert not a.on_twist('autonomy', twist(math.nan), i * 0.01)
        assert a.on_twist('joystick', twist(0.1), i * 0.01)
    assert not a.on_twist('joystick', (0.1, 0.2), 0.1)   # wrong length
    assert a.dropped == {'autonomy': 5, 'joystick': 1}
    assert a.received == {'joystick': 5}


def test_unknown_inputs_raise():
    a = arbiter()
    with pytest.raises(KeyError):
        a.on_twist('nobody', twist(0.1), 0.0)
    with pytest.raises(KeyError):
        a.on_lock('nobody', True, 0.0)


def _table(**changes):
    """TABLE with the first source's fields changed (None removes a field)."""
    source = {**TABLE['sources'][0], **changes}
    return {'sources': [{k: v for k, v in source.items() if v is not None}, *TABLE['sources'][1:]],
            'locks': TABLE['locks']}


@pytest.mark.parametrize('data, message', [
    ([], 'mapping'),
    ({'sources': []}, 'at least one source'),
    ({'sources': TABLE['sources'], 'extra': 1}, 'unknown keys'),
    (_table(topic='/joystick/cmd_vel'), 'relative'),
    (_table(topic=None), 'lacks'),
    (_table(priority=50), 'duplicate priority'),
    (_table(priority=1.5), 'priority'),
    (_table(priority=True), 'priority'),
    (_table(timeout=0.0), 'timeout'),
    (_table(timeout=-1.0), 'timeout'),
    (_table(timeout=math.nan), 'timeout'),
    (_table(name='autonomy'), 'duplicate name'),
    (_table(name='lock:x'), 'name'),
    (_table(topic='autonomy/cmd_vel'), 'duplicate topic'),
    (_table(colour='red'), 'unknown fields'),
])
def test_bad_tables_are_refused(data, message):
    with pytest.raises(ArbitrationConfigError, match=message):
        config_from_dict(data)


def test_shipped_table_is_valid_and_ordered():
    path = Path(__file__).resolve().parents[2] / 'config' / 'arbitration.yaml'
    config = config_from_dict(yaml.safe_load(path.read_text()), str(path))
    by_name = {s.name: s.priority for s in config.sources + config.locks}
    assert by_name['estop'] > by_name['joystick'] > by_name['base_station'] > by_name['autonomy']
    assert all(not s.topic.startswith('/') for s in config.sources + config.locks)
    assert by_name['hardware_estop'] > by_name['joystick']
    hardware = next(lock for lock in config.locks if lock.name == 'hardware_estop')
    assert hardware.topic == 'hardware_estop' and hardware.timeout == 3.0   # silent 3 s = pressed


# ---- stamps (issue #18 item 4) ------------------------------------------------------------------

def test_the_winner_s_stamp_is_forwarded_and_an_unstamped_twist_gets_its_arrival():
    a = arbiter(with_link_heartbeat_at=10.0)
    assert a.on_twist('autonomy', twist(0.4), 10.0, stamp=9.8)
    assert a.step(10.1).stamp == 9.8
    assert a.on_twist('joystick', twist(0.2), 10.2)
    assert a.step(10.3) == ArbitrationResult(twist(0.2), 'joystick', 10.2)
    assert a.step(11.0) == ArbitrationResult(ZERO_TWIST, IDLE, None)      # both timed out: zero, stamped by the node


@pytest.mark.parametrize('source, now, stamp, kept', [
    ('joystick', 10.0, 9.6, True),
    ('joystick', 10.0, 9.4, False),      # older than the source's 0.5 s timeout on arrival
    ('autonomy', 10.0, 9.4, True),       # autonomy's timeout is 1.0 s
    ('joystick', 10.0, 10.4, True),      # ahead, within max_future (0.5 s)
    ('joystick', 10.0, 10.6, False),     # too far ahead
    ('joystick', 10.0, math.nan, False),
])
def test_stale_and_future_stamps_are_dropped_on_arrival(source, now, stamp, kept):
    a = arbiter(with_link_heartbeat_at=now)
    assert a.on_twist(source, twist(0.3), now, stamp=stamp) is kept
    assert a.dropped[source] == (0 if kept else 1)
    assert (a.step(now).active == source) is kept


def test_a_delayed_twist_is_fresh_only_for_the_rest_of_its_timeout():
    """Stamped 0.4 s before it arrived (a DDS or executor stall): the joystick's 0.5 s run out 0.1 s
    after the arrival, not 0.5 s after it."""
    a = arbiter(with_link_heartbeat_at=10.0)
    assert a.on_twist('joystick', twist(0.3), 10.0, stamp=9.6)
    assert a.step(10.05).active == 'joystick'
    assert a.step(10.15) == ArbitrationResult(ZERO_TWIST, IDLE, None)


def test_a_backward_clock_step_never_makes_an_old_twist_fresh():
    a = Arbiter(config_from_dict({**TABLE, 'locks': []}))
    a.on_twist('autonomy', twist(0.3), 10.0)
    a.on_twist('joystick', twist(0.2), 10.0, stamp=10.0)
    assert a.step(10.6).active == 'autonomy'
    assert a.step(9.0) == ArbitrationResult(ZERO_TWIST, IDLE, None)      # the clock stepped back 1.6 s


def test_a_heartbeat_lock_heard_after_now_is_engaged():
    a = arbiter(with_link_heartbeat_at=10.0)
    a.on_twist('base_station', twist(0.3), 10.0)
    assert a.step(10.1).active == 'base_station'
    a.on_twist('base_station', twist(0.3), 9.0)
    assert a.step(9.0).active == 'lock:link'             # link heard at 10.0, now 9.0: a clock step
