"""foxglove_bridge over a real WebSocket (subprotocol foxglove.sdk.v1) on 127.0.0.1: channels
advertised with ros2msg schemas, a subscription receives the CDR of a message a ROS node published,
a latched state published before the client came is sent on subscribe, and nothing can be written."""
from __future__ import annotations

import json
import struct
import time

import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import NavSatFix

from rover_interfaces.msg import MissionStatus
from rover_stack.base_station.foxglove_bridge_node import FoxgloveBridgeNode
from rover_stack.common.qos import command_qos, latched_qos
from rover_stack.testing.waiting import DeadlineExceededError

pytest.importorskip('foxglove')
websockets_sync = pytest.importorskip('websockets.sync.client')

SUBPROTOCOL = 'foxglove.sdk.v1'   # = foxglove.websocket.v1 renamed; foxglove-sdk accepts only this name
MESSAGE_DATA = 0x01   # server binary opcode: uint32 subscription id, uint64 log time ns, payload


@pytest.fixture
def rig(ros_context):
    bridge = FoxgloveBridgeNode(context=ros_context, parameter_overrides=[rclpy.parameter.Parameter('port', value=0)])
    probe = rclpy.create_node('foxglove_probe', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(bridge)
    executor.add_node(probe)
    with websockets_sync.connect(f'ws://127.0.0.1:{bridge.port}', subprotocols=[SUBPROTOCOL],
                                 open_timeout=5) as ws:
        yield bridge, probe, executor, ws
    executor.shutdown()
    probe.destroy_node()
    bridge.destroy_node()


def _pump(ws, executor, done, timeout, what):
    """Spin the nodes and read the socket until ``done(frame)`` is true for a frame; that frame."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.02)
        try:
            frame = ws.recv(timeout=0.02)
        except TimeoutError:
            continue
        frame = json.loads(frame) if isinstance(frame, str) else frame
        if done(frame):
            return frame
    raise DeadlineExceededError(f'timed out after {timeout:.1f} s waiting for {what}')


def _channels(ws, executor, topics):
    seen = {}

    def advertised(frame):
        if isinstance(frame, dict) and frame.get('op') == 'advertise':
            seen.update({c['topic']: c for c in frame['channels']})
        return topics <= seen.keys()
    _pump(ws, executor, advertised, 5.0, f'channels {sorted(topics)}')
    return seen


def _message(sub_id):
    def done(frame):
        return isinstance(frame, bytes) and frame[0] == MESSAGE_DATA and \
            struct.unpack_from('<I', frame, 1)[0] == sub_id
    return done


def test_read_only_server_advertises_the_telemetry_with_ros2msg_schemas(rig):
    _, _, executor, ws = rig
    assert ws.subprotocol == SUBPROTOCOL
    info = json.loads(ws.recv(timeout=5))
    assert info['op'] == 'serverInfo'
    assert not {'clientPublish', 'services', 'parameters', 'parametersSubscribe'} & set(info['capabilities'])
    channels = _channels(ws, executor, {'/odometry/filtered', '/gnss/fix', '/battery', '/status_light',
                                        '/mission/status', '/active_source', '/markers', '/plan'})
    fix = channels['/gnss/fix']
    assert (fix['encoding'], fix['schemaName'], fix['schemaEncoding']) == ('cdr', 'sensor_msgs/msg/NavSatFix',
                                                                          'ros2msg')
    assert 'MSG: sensor_msgs/NavSatStatus' in fix['schema'] and 'MSG: std_msgs/Header' in fix['schema']
    assert '/camera/image_raw' not in channels   # camera_rate 0


def test_subscriber_receives_the_message_a_node_published(rig):
    _, probe, executor, ws = rig
    pub = probe.create_publisher(NavSatFix, 'gnss/fix', command_qos())
    channel = _channels(ws, executor, {'/gnss/fix'})['/gnss/fix']
    ws.send(json.dumps({'op': 'subscribe', 'subscriptions': [{'id': 7, 'channelId': channel['id']}]}))
    fix = NavSatFix(latitude=38.4064, longitude=-110.7919, altitude=1402.5)
    fix.header.frame_id = 'gnss_link'
    timer = probe.create_timer(0.05, lambda: pub.publish(fix))   # until discovery has matched the bridge
    frame = _pump(ws, executor, _message(7), 5.0, 'the NavSatFix on subscription 7')
    probe.destroy_timer(timer)
    log_time = struct.unpack_from('<Q', frame, 5)[0]
    assert abs(log_time / 1e9 - time.time()) < 5.0
    got = deserialize_message(frame[13:], NavSatFix)
    assert (got.latitude, got.longitude, got.altitude, got.header.frame_id) == (38.4064, -110.7919, 1402.5,
                                                                               'gnss_link')


def test_latched_state_published_before_the_client_subscribed_is_sent(rig):
    bridge, probe, executor, ws = rig
    pub = probe.create_publisher(MissionStatus, 'mission/status', latched_qos())
    pub.publish(MissionStatus(mission_name='urc_demo', state=MissionStatus.PAUSED, leg_index=2, leg_count=5))
    channel = _channels(ws, executor, {'/mission/status'})['/mission/status']
    deadline = time.monotonic() + 5.0   # let the bridge get it first (no client subscribed: not forwarded)
    while time.monotonic() < deadline and '/mission/status' not in bridge.latched_topics():
        executor.spin_once(timeout_sec=0.02)
    ws.send(json.dumps({'op': 'subscribe', 'subscriptions': [{'id': 1, 'channelId': channel['id']}]}))
    frame = _pump(ws, executor, _message(1), 5.0, 'the latched MissionStatus')
    got = deserialize_message(frame[13:], MissionStatus)
    assert (got.mission_name, got.state, got.leg_index) == ('urc_demo', MissionStatus.PAUSED, 2)


def test_client_publishing_is_refused(rig):
    _, _, executor, ws = rig
    ws.send(json.dumps({'op': 'advertise', 'channels': [{'id': 1, 'topic': '/base_station/cmd_vel',
                                                          'encoding': 'json', 'schemaName': 'x'}]}))
    status = _pump(ws, executor, lambda f: isinstance(f, dict) and f.get('op') == 'status', 5.0,
                   'a status message refusing the advertisement')
    assert status['level'] >= 1   # warning or error
