"""Link monitor, token store and the bridge core's driving and link-safety decisions."""
import json
import stat

import pytest

from rover_stack.base_station.bridge_core import ESTOP_REPEATS, BridgeConfig, BridgeCore, BridgeFullError
from rover_stack.base_station.link_monitor import LinkMonitor, PageClock
from rover_stack.base_station.token import load_or_create

TOKEN = 'a-long-operator-token'


def test_link_monitor_timeout_loss_and_rtt():
    link = LinkMonitor(timeout=1.0)
    assert link.expired(0.0)
    link.heartbeat(1, 10.0)
    link.heartbeat(2, 10.2)
    link.heartbeat(5, 10.4)          # 3 and 4 lost
    link.add_rtt(0.02)
    link.add_rtt(0.04)
    assert not link.expired(11.4)
    assert link.expired(11.41)
    stats = link.stats(10.5)
    assert (stats.lost, stats.received, stats.rtt) == (2, 3, 0.04)
    assert abs(link.mean_rtt() - 0.03) < 1e-12


def test_token_created_once_with_private_mode(tmp_path):
    path = tmp_path / 'sub' / 'token'
    token, created = load_or_create(path)
    assert created and len(token) >= 16
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path) == (token, False)


def _core():
    return BridgeCore(BridgeConfig(TOKEN, heartbeat_timeout=1.0, drive_timeout=0.5, messages_per_second=20))


def _send(core, session, now, sent=None, estop_latched=False, **msg):
    """Deliver ``msg`` at ``now``; heartbeats and drives are stamped with the page clock at ``sent``
    (default ``now``: no delay) in ms, and drives get the page's next sequence number."""
    if msg['type'] in ('heartbeat', 'drive'):
        msg.setdefault('t', (now if sent is None else sent) * 1000.0)
    if msg['type'] == 'drive' and 'seq' not in msg:
        session.page_seq = getattr(session, 'page_seq', 0) + 1
        msg['seq'] = session.page_seq
    return core.handle(session, json.dumps(msg), now, estop_latched=estop_latched)


def _operator(core, now=0.0):
    """An operator page: logged in, one heartbeat, controls at rest (armed)."""
    session = core.connect()
    replies, _ = _send(core, session, now, type='hello', token=TOKEN)
    assert replies[0]['can_drive']
    _send(core, session, now, type='heartbeat', seq=1)
    assert _send(core, session, now, type='drive', linear=0, angular=0) == ([], [])
    return session


def test_drive_needs_token_and_heartbeat():
    core = _core()
    guest = core.connect()
    assert not _send(core, guest, 0.0, type='hello', token='wrong')[0][0]['can_drive']
    _send(core, guest, 0.0, type='heartbeat', seq=1)
    replies, _ = _send(core, guest, 0.0, type='drive', linear=0.5, angular=0)
    assert 'read-only' in replies[0]['error']
    assert core.step(0.05).command is None
    operator = core.connect()
    _send(core, operator, 0.0, type='hello', token=TOKEN)
    assert 'heartbeat' in _send(core, operator, 0.0, type='drive', linear=0.5, angular=0)[0][0]['error']


def test_drive_then_release_publishes_one_zero():
    core = _core()
    s = _operator(core)
    _send(core, s, 0.1, type='drive', linear=0.5, angular=0.2)
    assert core.step(0.15).command == (0.5, 0.2)
    _send(core, s, 0.2, type='drive', linear=0, angular=0)
    assert core.step(0.25).command == (0.0, 0.0)
    assert core.step(0.3).command is None
    assert not core.step(0.3).lock


def test_heartbeat_loss_while_driving_engages_lock():
    core = _core()
    s = _operator(core)
    for i in range(10):   # drive messages keep coming, heartbeats do not
        _send(core, s, 0.1 * i, type='drive', linear=0.5, angular=0)
    assert core.step(0.95).command == (0.5, 0.0)
    out = core.step(1.05)
    assert out.lock and out.command == (0.0, 0.0) and 'heartbeat' in out.lock_reason
    # A live link again is not enough: the held control must be let go, then pressed again.
    _send(core, s, 1.2, type='heartbeat', seq=2)
    assert 'let go' in _send(core, s, 1.2, type='drive', linear=0.3, angular=0)[0][0]['error']
    assert core.step(1.25).command is None and core.lock
    _send(core, s, 1.3, type='drive', linear=0, angular=0)
    _send(core, s, 1.4, type='drive', linear=0.3, angular=0)
    assert core.step(1.45).command == (0.3, 0.0) and not core.lock


def test_a_backlog_after_a_stall_neither_revives_the_link_nor_drives():
    """Issue #18 item 5: a stall of 2 s while the key is held; TCP then delivers the held heartbeats and
    drives at once. They are older than the timeouts by the page's clock: the lock stays engaged and
    nothing is published but zero."""
    core = BridgeCore(BridgeConfig(TOKEN, heartbeat_timeout=1.0, drive_timeout=0.5, messages_per_second=60))
    s = _operator(core)
    _send(core, s, 0.1, type='drive', linear=0.5, angular=0)
    assert core.step(0.15).command == (0.5, 0.0)
    out = core.step(1.2)                          # stalled since 0.1 s: no heartbeat for > 1 s
    assert out.lock and out.command == (0.0, 0.0)
    now = 2.2                                     # the link recovers: the backlog arrives together
    for k in range(1, 21):                        # page sent a drive every 0.1 s, a heartbeat every 0.2 s
        sent = 0.1 + 0.1 * k
        if k % 2 == 0:
            _send(core, s, now, sent=sent, type='heartbeat', seq=1 + k // 2)
        replies, _ = _send(core, s, now, sent=sent, type='drive', linear=0.5, angular=0)
        assert replies and replies[0]['type'] == 'error' and 'rate' not in replies[0]['error'], (sent, replies)
    for t in (2.25, 2.5, 3.0):
        out = core.step(t)
        assert out.lock and out.command is None, (t, out)
    assert s.dropped_drives >= 14                 # those more than drive_timeout old when they arrived


def test_drives_out_of_order_are_dropped():
    core = _core()
    s = _operator(core)
    _send(core, s, 0.1, type='drive', seq=10, linear=0.5, angular=0)
    assert 'dropped' in _send(core, s, 0.15, type='drive', seq=9, linear=-0.5, angular=0)[0][0]['error']
    assert 'dropped' in _send(core, s, 0.15, type='drive', seq=10, linear=-0.5, angular=0)[0][0]['error']
    assert core.step(0.2).command == (0.5, 0.0)


def test_a_new_connection_and_an_estop_need_the_controls_at_rest_first():
    core = _core()
    s = core.connect()
    _send(core, s, 0.0, type='hello', token=TOKEN)
    _send(core, s, 0.0, type='heartbeat', seq=1)
    assert 'let go' in _send(core, s, 0.1, type='drive', linear=0.5, angular=0)[0][0]['error']   # held key
    _send(core, s, 0.2, type='drive', linear=0, angular=0)
    _send(core, s, 0.3, type='drive', linear=0.5, angular=0)
    assert core.step(0.35).command == (0.5, 0.0)
    # held through an e-stop and its reset: let go first
    assert 'E-STOP' in _send(core, s, 0.4, estop_latched=True, type='drive', linear=0.5, angular=0)[0][0]['error']
    _send(core, s, 0.5, type='heartbeat', seq=2)
    assert 'let go' in _send(core, s, 0.6, type='drive', linear=0.5, angular=0)[0][0]['error']


def test_page_clock_ages_and_drift():
    clock = PageClock(drift=1e-3)
    assert clock.age(5000.0, 100.0) == 0.0                 # the first message defines the base
    assert clock.age(5100.0, 100.2) == pytest.approx(0.1, abs=1e-3)   # 0.1 s slower than the first
    assert clock.age(5200.0, 100.2) == pytest.approx(0.0)  # faster: the new base
    assert clock.age(1_005_200.0, 1100.2 + 0.5) == pytest.approx(0.0, abs=1e-9)   # 1 s drift over 1000 s


def test_disconnect_while_driving_engages_lock_and_stale_drive_zeroes():
    core = _core()
    s = _operator(core)
    _send(core, s, 0.1, type='drive', linear=0.5, angular=0)
    core.disconnect(s)
    out = core.step(0.15)
    assert out.lock and out.command == (0.0, 0.0)
    s2 = _operator(core, 1.0)
    _send(core, s2, 1.0, type='drive', linear=0.5, angular=0)
    assert core.step(1.4).command == (0.5, 0.0)
    assert core.step(1.55).command == (0.0, 0.0)   # no drive message for > 0.5 s


def test_estop_from_anyone_even_when_rate_limited_and_drive_refused_when_latched():
    core = _core()
    guest = core.connect()
    for _ in range(25):
        _send(core, guest, 0.0, type='heartbeat', seq=1)
    assert 'rate limit' in _send(core, guest, 0.0, type='heartbeat', seq=1)[0][0]['error']
    assert _send(core, guest, 0.0, type='estop')[1] == [('estop', 0)]
    s = _operator(core, 2.0)
    replies, _ = _send(core, s, 2.0, estop_latched=True, type='drive', linear=0.5, angular=0)
    assert 'E-STOP' in replies[0]['error']
    assert _send(core, guest, 2.0, type='estop_reset')[0][0]['error'].startswith('estop_reset: read-only')
    assert _send(core, s, 2.0, type='estop_reset')[1] == [('estop_reset',)]


def test_second_page_cannot_take_over_while_first_drives():
    core = _core()
    a, b = _operator(core), _operator(core)
    _send(core, a, 0.1, type='drive', linear=0.5, angular=0)
    assert 'is driving' in _send(core, b, 0.1, type='drive', linear=-0.5, angular=0)[0][0]['error']


@pytest.mark.parametrize('mode', [0o640, 0o604, 0o660, 0o644])
def test_a_token_file_open_to_group_or_others_is_refused(tmp_path, mode):
    """Issue #18 item 9: the token file must be private (chmod 600)."""
    path = tmp_path / 'token'
    path.write_text(TOKEN + '\n')
    path.chmod(mode)
    with pytest.raises(ValueError, match='chmod 600'):
        load_or_create(path)
    path.chmod(0o600)
    assert load_or_create(path) == (TOKEN, False)


def test_connections_are_capped_and_guests_make_room():
    """Issue #18 item 9: a client without the token cannot open unlimited connections; a new connection
    (e.g. the operator's, before its hello) evicts the oldest one without the token."""
    core = BridgeCore(BridgeConfig(TOKEN, max_connections=3))
    guests = [core.connect() for _ in range(3)]
    operator = _operator(core)                      # full: the oldest guest is closed for it
    assert guests[0].evicted and guests[0].id not in core.sessions and len(core.sessions) == 3
    assert 'room' in _send(core, guests[0], 0.1, type='hello', token=TOKEN)[0][0]['error']
    for _ in range(2):
        _operator(core)                             # every slot now has the token
    assert all(s.authenticated for s in core.sessions.values()) and operator.id in core.sessions
    with pytest.raises(BridgeFullError):
        core.connect()


def test_estops_are_always_honoured_and_bounded_only_while_latched():
    """Issue #18 item 9: every e-stop while not latched is published; a flood while latched is acked but
    re-published (and logged) at most ESTOP_REPEATS per second, with a count of the rest."""
    core = _core()
    guest = core.connect()
    for i in range(50):
        assert _send(core, guest, i * 0.001, type='estop')[1] == [('estop', 0)]
    acted = []
    for i in range(200):                            # 200 in 2 s while latched
        replies, actions = _send(core, guest, 1.0 + i * 0.01, estop_latched=True, type='estop')
        assert replies == [{'type': 'ack', 'of': 'estop'}]
        acted += actions
    assert 2 * ESTOP_REPEATS - 1 <= len(acted) <= 2 * ESTOP_REPEATS + 1
    assert max(a[1] for a in acted) > 0 and sum(a[1] for a in acted) + len(acted) + core.estops_unlogged == 200
