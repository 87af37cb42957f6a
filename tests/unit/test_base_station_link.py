"""Link monitor, token store and the bridge core's driving and link-safety decisions."""
import json
import stat

from rover_stack.base_station.bridge_core import BridgeConfig, BridgeCore
from rover_stack.base_station.link_monitor import LinkMonitor
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


def _send(core, session, now, **msg):
    return core.handle(session, json.dumps(msg), now, estop_latched=False)


def _operator(core, now=0.0):
    session = core.connect()
    replies, _ = _send(core, session, now, type='hello', token=TOKEN)
    assert replies[0]['can_drive']
    _send(core, session, now, type='heartbeat', seq=1, t=0)
    return session


def test_drive_needs_token_and_heartbeat():
    core = _core()
    guest = core.connect()
    assert not _send(core, guest, 0.0, type='hello', token='wrong')[0][0]['can_drive']
    _send(core, guest, 0.0, type='heartbeat', seq=1, t=0)
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
    # the lock is released when the operator drives again over a live link
    _send(core, s, 1.2, type='heartbeat', seq=2, t=0)
    _send(core, s, 1.2, type='drive', linear=0.3, angular=0)
    assert core.step(1.25).command == (0.3, 0.0) and not core.lock


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
        _send(core, guest, 0.0, type='heartbeat', seq=1, t=0)
    assert 'rate limit' in _send(core, guest, 0.0, type='heartbeat', seq=1, t=0)[0][0]['error']
    assert _send(core, guest, 0.0, type='estop')[1] == [('estop',)]
    s = _operator(core, 2.0)
    replies, _ = core.handle(s, json.dumps({'type': 'drive', 'linear': 0.5, 'angular': 0}), 2.0, True)
    assert 'E-STOP' in replies[0]['error']
    assert _send(core, guest, 2.0, type='estop_reset')[0][0]['error'].startswith('estop_reset: read-only')
    assert _send(core, s, 2.0, type='estop_reset')[1] == [('estop_reset',)]


def test_second_page_cannot_take_over_while_first_drives():
    core = _core()
    a, b = _operator(core), _operator(core)
    _send(core, a, 0.1, type='drive', linear=0.5, angular=0)
    assert 'is driving' in _send(core, b, 0.1, type='drive', linear=-0.5, angular=0)[0][0]['error']
