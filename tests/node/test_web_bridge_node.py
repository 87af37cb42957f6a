"""web_bridge over a real WebSocket on 127.0.0.1: driving needs the token, E-STOP does not, and
heartbeat loss or a closed connection while driving engages the base-station lock."""
from __future__ import annotations

import contextlib
import json
import time

import numpy as np
import pytest
import rclpy
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import Log
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import Image
from std_msgs.msg import Bool

from rover_stack.base_station import token
from rover_stack.base_station.web_bridge_node import WebBridgeNode
from rover_stack.common.qos import command_qos, image_qos, latched_qos
from rover_stack.perception.image_pipeline import rgb_to_image
from rover_stack.testing.waiting import spin_for, spin_until

websockets_sync = pytest.importorskip('websockets.sync.client')

TOKEN = 'node-test-token-0123456789'
TIMEOUT = 0.5   # s heartbeat timeout of the bridge under test


def _token_file(tmp_path) -> str:
    return str(token.write(tmp_path / 'token', TOKEN))


@pytest.fixture
def rig(ros_context, tmp_path):
    bridge = WebBridgeNode(context=ros_context, parameter_overrides=[
        rclpy.parameter.Parameter('port', value=0),
        rclpy.parameter.Parameter('token_file', value=_token_file(tmp_path)),
        rclpy.parameter.Parameter('heartbeat_timeout', value=TIMEOUT),
        rclpy.parameter.Parameter('camera_rate', value=0.0)])
    probe = rclpy.create_node('web_bridge_probe', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(bridge)
    executor.add_node(probe)
    got = {'cmd': [], 'lock': [], 'estop': []}
    probe.create_subscription(TwistStamped, 'base_station/cmd_vel', got['cmd'].append, command_qos())
    probe.create_subscription(Bool, 'base_station/lock', lambda m: got['lock'].append((time.monotonic(), m.data)),
                              latched_qos())
    probe.create_subscription(Bool, 'estop', got['estop'].append, latched_qos())
    with contextlib.ExitStack() as connections:
        yield bridge, executor, got, connections
    executor.shutdown()
    probe.destroy_node()
    bridge.destroy_node()


def _open(rig, token=None):
    """A connection (closed by the fixture at the latest) and the bridge's hello_ack."""
    bridge, _, _, connections = rig
    ws = connections.enter_context(websockets_sync.connect(f'ws://127.0.0.1:{bridge.port}/ws', open_timeout=5))
    ws.send(json.dumps({'type': 'hello', 'token': token or ''}))
    while (reply := json.loads(ws.recv(timeout=5)))['type'] != 'hello_ack':
        pass
    return ws, reply


def _beat(ws, seq):
    ws.send(json.dumps({'type': 'heartbeat', 'seq': seq, 't': time.monotonic() * 1000.0}))


_DRIVE_SEQ = iter(range(1, 1_000_000))


def _drive(ws, linear, angular):
    """A drive as the page sends it: a sequence number and the page clock (ms)."""
    ws.send(json.dumps({'type': 'drive', 'seq': next(_DRIVE_SEQ), 't': time.monotonic() * 1000.0,
                        'linear': linear, 'angular': angular}))


def _operator(rig):
    """A logged-in page with a heartbeat and its controls at rest (it may drive)."""
    operator, ack = _open(rig, TOKEN)
    assert ack['can_drive']
    _beat(operator, 1)
    _drive(operator, 0.0, 0.0)
    return operator


def _errors(ws, seconds=0.3):
    out, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            msg = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            break
        if msg['type'] == 'error':
            out.append(msg['error'])
    return out


def test_operator_drives_and_guest_cannot(rig):
    _, executor, got, _ = rig
    guest, ack = _open(rig, 'wrong-token')
    assert not ack['can_drive']
    _beat(guest, 1)
    _drive(guest, 0.4, 0.0)
    assert any('read-only' in e for e in _errors(guest))
    spin_for(executor, 0.5)        # 10 bridge steps
    assert not got['cmd']
    operator = _operator(rig)
    _drive(operator, 0.4, -0.2)
    spin_until(executor, lambda: got['cmd'], 3.0, 'a base-station command')
    assert (got['cmd'][-1].twist.linear.x, got['cmd'][-1].twist.angular.z) == (0.4, -0.2)
    _drive(operator, 2.0, 0.0)   # out of range
    assert any('outside' in e for e in _errors(operator))
    guest.close()
    operator.close()


def test_estop_from_tokenless_page_is_published(rig):
    _, executor, got, _ = rig
    guest, _ = _open(rig)
    guest.send(json.dumps({'type': 'estop'}))
    spin_until(executor, lambda: any(m.data for m in got['estop']), 3.0, 'estop true')
    guest.close()


def test_heartbeat_loss_while_driving_engages_lock_within_timeout(rig):
    _, executor, got, _ = rig
    operator = _operator(rig)
    last_beat = time.monotonic()
    _drive(operator, 0.3, 0.0)
    spin_until(executor, lambda: got['cmd'], 3.0, 'a base-station command')
    end = time.monotonic() + 2.0   # keep driving, stop the heartbeat
    while time.monotonic() < end and not (got['lock'] and got['lock'][-1][1]):
        _drive(operator, 0.3, 0.0)
        executor.spin_once(timeout_sec=0.05)
    assert got['lock'] and got['lock'][-1][1], 'lock not engaged'
    latency = got['lock'][-1][0] - last_beat
    assert TIMEOUT < latency < TIMEOUT + 0.4, latency
    spin_until(executor, lambda: got['cmd'][-1].twist.linear.x == 0.0, 1.0, 'a zero command')
    operator.close()


def test_disconnect_while_driving_engages_lock(rig):
    _, executor, got, _ = rig
    operator = _operator(rig)
    _drive(operator, 0.3, 0.0)
    spin_until(executor, lambda: got['cmd'] and got['lock'], 3.0, 'a command and the lock state')
    assert not got['lock'][-1][1]
    closed = time.monotonic()
    operator.close()
    spin_until(executor, lambda: got['lock'][-1][1], 2.0, 'the lock after disconnect')
    assert got['lock'][-1][0] - closed < 0.5
    assert got['cmd'][-1].twist.linear.x == 0.0


def test_camera_and_odometry_are_subscribed_only_while_a_page_is_connected(ros_context, tmp_path):
    bridge = WebBridgeNode(context=ros_context, parameter_overrides=[
        rclpy.parameter.Parameter('port', value=0),
        rclpy.parameter.Parameter('token_file', value=_token_file(tmp_path)),
        rclpy.parameter.Parameter('camera_rate', value=5.0)])
    probe = rclpy.create_node('web_bridge_camera_probe', context=ros_context)
    image_pub = probe.create_publisher(Image, 'camera/image_raw', image_qos())
    odometry_pubs = [probe.create_publisher(Odometry, topic, 10) for topic in ('odom', 'odometry/filtered')]
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(bridge)
    executor.add_node(probe)

    def subscribers():
        return [pub.get_subscription_count() for pub in (image_pub, *odometry_pubs)]
    try:
        executor.spin_once(timeout_sec=0.5)
        assert subscribers() == [0, 0, 0]             # nobody watches: no image or 50 Hz odometry traffic
        with websockets_sync.connect(f'ws://127.0.0.1:{bridge.port}/ws', open_timeout=5) as ws:
            ws.send(json.dumps({'type': 'hello', 'token': ''}))
            spin_until(executor, lambda: subscribers() == [1, 1, 1], 5.0, 'camera and odometry subscriptions')
            image = np.full((48, 64, 3), 120, np.uint8)
            stamp = probe.get_clock().now().to_msg()

            def published_frame():
                image_pub.publish(rgb_to_image(image, stamp, 'camera_optical_frame'))
                return bridge.camera_frame() is not None
            spin_until(executor, published_frame, 5.0, 'a JPEG frame for the page')
        spin_until(executor, lambda: subscribers() == [0, 0, 0], 5.0, 'camera and odometry unsubscribed')
        assert bridge.camera_frame() is None
    finally:
        executor.shutdown()
        probe.destroy_node()
        bridge.destroy_node()


def test_the_token_is_neither_a_parameter_nor_in_the_log(ros_context, tmp_path):
    """Issue #18 item 9: a generated token reaches neither /rosout nor the parameter services (any DDS
    participant reads both); a token given as a parameter is refused."""
    probe = rclpy.create_node('web_bridge_rosout_probe', context=ros_context)
    logs: list[Log] = []
    probe.create_subscription(Log, '/rosout', logs.append,
                              QoSProfile(depth=1000, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    path = tmp_path / 'new_token'
    bridge = WebBridgeNode(context=ros_context, parameter_overrides=[
        rclpy.parameter.Parameter('port', value=0), rclpy.parameter.Parameter('token_file', value=str(path)),
        rclpy.parameter.Parameter('camera_rate', value=0.0)])
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(bridge)
    executor.add_node(probe)
    try:
        token = path.read_text().strip()
        assert len(token) >= 16 and (path.stat().st_mode & 0o777) == 0o600
        spin_until(executor, lambda: any('new operator token' in m.msg for m in logs), 5.0, 'the log line')
        assert not any(token in m.msg for m in logs), [m.msg for m in logs if token in m.msg]
        assert not bridge.has_parameter('token')
        assert all(token not in str(bridge.get_parameter(n).value) for n in bridge._parameters)
    finally:
        executor.shutdown()
        bridge.destroy_node()
        probe.destroy_node()
    with pytest.raises(ValueError, match='not a parameter'):
        WebBridgeNode(context=ros_context, parameter_overrides=[
            rclpy.parameter.Parameter('port', value=0), rclpy.parameter.Parameter('token', value=TOKEN)])


def test_a_respawned_bridge_does_not_release_the_lock_of_its_predecessor(rig):
    """Issue #18 item 6: the lock engaged by a bridge that died stays engaged when the bridge restarts;
    only a page with the token, controls at rest then pressed, releases it."""
    _, executor, got, _ = rig        # the "respawned" bridge: started, no page has driven yet
    spin_for(executor, 1.5)               # 30 steps: a fresh bridge used to publish lock false at once
    assert not any(value is False for _, value in got['lock']), got['lock']
    page, _ = _open(rig, TOKEN)
    _beat(page, 1)
    spin_for(executor, 0.5)
    assert not any(value is False for _, value in got['lock']), 'a page without driving released the lock'
    _beat(page, 2)                        # the rig's heartbeat timeout is 0.5 s
    _drive(page, 0.0, 0.0)
    _drive(page, 0.2, 0.0)
    spin_until(executor, lambda: got['lock'] and got['lock'][-1][1] is False, 3.0, 'lock released by driving')
