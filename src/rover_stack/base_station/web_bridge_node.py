"""Node ``web_bridge``: the base-station web page and its WebSocket, on the rover side."""
from __future__ import annotations

import base64
import math
import queue
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from nav_msgs.msg import Path as PathMsg
from rclpy.action import ActionClient
from rclpy.node import Node
from sensor_msgs.msg import BatteryState, Image, NavSatFix
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger

from rover_interfaces.action import ExecuteMission
from rover_interfaces.msg import MissionStatus, StatusLight
from rover_stack.base_station import token as token_store
from rover_stack.base_station.bridge_core import BridgeConfig, BridgeCore, Session
from rover_stack.base_station.command_msg import base_link_twist
from rover_stack.base_station.protocol import Limits
from rover_stack.base_station.web_server import ServerThread, make_app
from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, override_of, param
from rover_stack.common.qos import command_qos, image_qos, latched_qos, sensor_qos
from rover_stack.perception.image_pipeline import image_to_rgb
from rover_stack.tf.transform import yaw_from_quaternion

NODE_NAME = 'web_bridge'
MISSION_SERVICES = {'pause': 'mission/pause', 'resume': 'mission/resume', 'skip': 'mission/skip_leg',
                    'abort_return': 'mission/abort_and_return'}
MISSION_STATES = {0: 'idle', 1: 'running', 2: 'paused', 3: 'teleop', 4: 'returning', 5: 'succeeded',
                  6: 'failed', 7: 'canceled'}
LIGHT_COLORS = {0: 'off', 1: 'red', 2: 'blue', 3: 'green'}
EARTH_RADIUS = 6_371_000.0   # m, for the local (equirectangular) GNSS plot


@dataclass
class BridgeParams:
    host: str = param('127.0.0.1', 'Address to bind; 0.0.0.0 only on a trusted LAN', read_only=True)
    port: int = param(8080, 'TCP port of the page (0: any free port)', low=0, high=65535, read_only=True)
    token_file: str = param('', 'Operator token file (owner-only, mode 0600; created if missing); empty = '
                            '~/.config/rover_stack/base_station_token. The token itself is never a '
                            'parameter', read_only=True)
    max_connections: int = param(16, 'WebSocket connections at most; when full, a new one closes the oldest '
                                 'connection without the token', low=1, high=256, read_only=True)
    heartbeat_timeout: float = param(1.0, 'Heartbeat silence that locks the base-station source while '
                                     'driving', unit='s', low=0.1, high=10.0, read_only=True)
    drive_timeout: float = param(0.5, 'Drive-message silence that zeroes the command', unit='s', low=0.05,
                                 high=5.0, read_only=True)
    rate: float = param(20.0, 'Command publishing and safety-check rate', unit='Hz', low=5.0, high=100.0,
                        read_only=True)
    max_linear: float = param(1.0, 'Largest accepted |linear|', unit='m/s', low=0.0, high=5.0, read_only=True)
    max_angular: float = param(1.5, 'Largest accepted |angular|', unit='rad/s', low=0.0, high=10.0,
                               read_only=True)
    max_message_bytes: int = param(1024, 'Largest accepted client message', unit='B', low=64, high=65536,
                                   read_only=True)
    messages_per_second: int = param(60, 'Client messages accepted per connection per second', low=1,
                                     high=1000, read_only=True)
    camera_rate: float = param(5.0, 'Camera frames sent to the pages', unit='Hz', low=0.0, high=30.0,
                               read_only=True)
    camera_width: int = param(320, 'Width the camera frames are scaled to', unit='px', low=32, high=1920,
                              read_only=True)
    jpeg_quality: int = param(60, 'JPEG quality of camera frames', low=10, high=95, read_only=True)


class WebBridgeNode(Node):
    """Serves the base-station page and turns its WebSocket messages into rover commands.

    Publishes:
      * ``base_station/cmd_vel`` (geometry_msgs/TwistStamped, reliable) at ``rate`` while a page drives,
        one zero twist when it stops.
      * ``base_station/lock`` (std_msgs/Bool, latched, re-sent at 2 Hz): true after the driving page's
        heartbeat stopped for ``heartbeat_timeout`` s or its connection closed; false when a page with
        the token drives again (controls freshly at rest, then pressed). Nothing before either happened
        in this process: a respawned bridge never releases a lock its predecessor engaged. An
        arbitration lock above the base-station source (docs/base_station.md).
      * ``estop`` (std_msgs/Bool, latched): true on E-STOP from any page; false before a reset.
    Subscribes: ``odom``, ``odometry/filtered`` (nav_msgs/Odometry), ``gnss/fix``, ``datum``
      (sensor_msgs/NavSatFix), ``battery`` (sensor_msgs/BatteryState), ``active_source`` (std_msgs/String),
      ``status_light`` (StatusLight), ``mission/status`` (MissionStatus), ``estop_state`` (std_msgs/Bool),
      ``camera/image_raw`` (sensor_msgs/Image), ``plan`` (nav_msgs/Path). Odometry and camera only while
      a page is connected.
    Calls: ``reset_estop`` and ``mission/{pause,resume,skip_leg,abort_and_return}`` (std_srvs/Trigger),
      action ``execute_mission`` (start by mission name, cancel).
    Parameters: see BridgeParams (host, port, token, heartbeat_timeout s, rates Hz, limits).
    """

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        p = self.params = declare_params(self, BridgeParams)
        token = self._token(p)
        self._lock = threading.Lock()
        self.core = BridgeCore(BridgeConfig(
            token, Limits(p.max_linear, p.max_angular, p.max_message_bytes), p.heartbeat_timeout,
            p.drive_timeout, p.messages_per_second, p.max_connections))
        self._actions: queue.SimpleQueue = queue.SimpleQueue()
        self._state: dict = dict.fromkeys(('odom', 'filtered', 'fix', 'battery', 'active_source',
                                           'status_light', 'mission', 'estop', 'plan'))
        self._datum: NavSatFix | None = None
        self._frame: tuple[int, str] | None = None
        self._last_frame_time = 0.0
        self._goal_handle = None
        self._cmd_pub = self.create_publisher(TwistStamped, 'base_station/cmd_vel', command_qos())
        self._lock_pub = self.create_publisher(Bool, 'base_station/lock', latched_qos())
        self._estop_pub = self.create_publisher(Bool, 'estop', latched_qos())
        self.create_subscription(NavSatFix, 'gnss/fix', lambda m: self._store('fix', m), sensor_qos())
        self.create_subscription(NavSatFix, 'datum', self._on_datum, latched_qos())
        self.create_subscription(BatteryState, 'battery', lambda m: self._store('battery', m), sensor_qos())
        self.create_subscription(String, 'active_source', lambda m: self._store('active_source', m.data),
                                 latched_qos())
        self.create_subscription(StatusLight, 'status_light', lambda m: self._store('status_light', m),
                                 latched_qos())
        self.create_subscription(MissionStatus, 'mission/status', lambda m: self._store('mission', m),
                                 latched_qos())
        self.create_subscription(Bool, 'estop_state', lambda m: self._store('estop', m.data), latched_qos())
        self.create_subscription(PathMsg, 'plan', self._on_plan, command_qos(depth=1))
        # Subscribed only while a page is connected: the camera (images are big) and the two 50 Hz
        # odometry streams (nobody to show them to otherwise; they are back within 20 ms of a connect).
        self._camera_sub = None
        self._odometry_subs: list = []
        self._reset_client = self.create_client(Trigger, 'reset_estop')
        self._mission_clients = {a: self.create_client(Trigger, s) for a, s in MISSION_SERVICES.items()}
        self._mission_action = ActionClient(self, ExecuteMission, 'execute_mission')
        self._step_count = 0
        self._lock_sent: bool | None = None
        self.create_timer(1.0 / p.rate, self._step)
        self._server = ServerThread(make_app(self), p.host, p.port)
        self.port = self._server.start()
        self.get_logger().info(f'web_bridge serving on http://{p.host}:{self.port}/')

    def _token(self, p: BridgeParams) -> str:
        """The operator token from ``token_file``: never a parameter, never in the log (/rosout)."""
        given = override_of(self, 'token')
        if given:
            raise ValueError('token: not a parameter (any DDS participant can read parameters); put the '
                             'token in a file of mode 0600 and set token_file')
        path = Path(p.token_file).expanduser() if p.token_file else token_store.DEFAULT_TOKEN_FILE
        token, created = token_store.load_or_create(path)
        if created:
            self.get_logger().warning(f'new operator token written to {path} (mode 0600)')
            if sys.stdout.isatty():      # the terminal only: never the log, which reaches /rosout
                print(f'web_bridge: new operator token (also in {path}): {token}', flush=True)  # noqa: T201
        else:
            self.get_logger().info(f'operator token read from {path}')
        return token

    # --- callbacks store -------------------------------------------------------------------------
    def _store(self, key: str, value) -> None:
        with self._lock:
            self._state[key] = value

    def _on_datum(self, msg: NavSatFix) -> None:
        if not (abs(msg.latitude) <= 90.0 and abs(msg.longitude) <= 180.0):   # also false for NaN
            self.get_logger().warning(f'ignoring datum ({msg.latitude}, {msg.longitude}): not a coordinate',
                                      throttle_duration_sec=5.0)
            return
        self._datum = msg

    def _on_plan(self, msg: PathMsg) -> None:
        points = [(round(s.pose.position.x, 2), round(s.pose.position.y, 2)) for s in msg.poses]
        stride = max(1, len(points) // 200)
        self._store('plan', points[::stride])

    def _on_image(self, msg: Image) -> None:
        now = time.monotonic()
        if now - self._last_frame_time < 1.0 / self.params.camera_rate:
            return
        self._last_frame_time = now
        try:
            image = image_to_rgb(msg)
        except ValueError as error:
            self.get_logger().warning(f'camera: unusable image: {error}', throttle_duration_sec=30.0)
            return
        if image.ndim == 3:
            image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)
        width = self.params.camera_width
        if msg.width > width:
            image = cv2.resize(image, (width, int(msg.height * width / msg.width)),
                               interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, self.params.jpeg_quality])
        if ok:
            seq = (self._frame[0] + 1) if self._frame else 0
            self._frame = (seq, base64.b64encode(jpeg.tobytes()).decode('ascii'))

    # --- the web thread (thread-safe entry points) -----------------------------------------------
    def connect(self) -> Session:
        """A new session (BridgeFullError when every connection has the token); an evicted one is marked."""
        with self._lock:
            return self.core.connect()

    def disconnect(self, session: Session) -> None:
        with self._lock:
            self.core.disconnect(session)
        self._actions.put(('step',))

    def handle_text(self, session: Session, text: str) -> list[dict]:
        with self._lock:
            replies, actions = self.core.handle(session, text, time.monotonic(), bool(self._state['estop']))
        for action in actions:
            if action[0] == 'estop':   # published at once: no wait for the timer
                self._estop_pub.publish(Bool(data=True))
                who = f'page {session.id}' + ('' if session.authenticated else ' (no token)')
                self.get_logger().warning(f'E-STOP from {who}' + (f'; {action[1]} more not logged'
                                                                   if action[1] else ''))
            else:
                self._actions.put((*action, session))
        return replies

    def drain_outbox(self, session: Session) -> list[dict]:
        out = []
        while session.outbox:
            out.append(session.outbox.popleft())
        return out

    def camera_frame(self) -> tuple[int, str] | None:
        return self._frame

    def telemetry(self, session: Session) -> dict:
        with self._lock:
            s = dict(self._state)
            lock, reason, driving = self.core.lock, self.core.lock_reason, self.core.driving
            stats = session.link.stats(time.monotonic())
        odom = s['filtered'] or s['odom']
        out = {'type': 'telemetry', 'pose': None, 'speed': None, 'battery': None, 'fix': None,
               'active_source': s['active_source'], 'status_light': None, 'mission': None,
               'estop': s['estop'], 'lock': lock, 'lock_reason': reason, 'driving': driving,
               'plan': s['plan'],
               'link': {'rtt': stats.rtt, 'lost': stats.lost, 'received': stats.received}}
        if odom is not None:
            q, pos, cov = odom.pose.pose.orientation, odom.pose.pose.position, odom.pose.covariance
            yaw = yaw_from_quaternion(q.x, q.y, q.z, q.w)
            out['pose'] = {'x': pos.x, 'y': pos.y, 'yaw': yaw, 'frame': odom.header.frame_id,
                           'sigma_xy': math.sqrt(max(cov[0], 0.0) + max(cov[7], 0.0))}
            out['speed'] = {'linear': odom.twist.twist.linear.x, 'angular': odom.twist.twist.angular.z}
        if s['battery'] is not None:
            out['battery'] = {'percentage': _finite(s['battery'].percentage),
                              'voltage': _finite(s['battery'].voltage)}
        if s['fix'] is not None:
            out['fix'] = self._fix(s['fix'])
        if s['status_light'] is not None:
            light = s['status_light']
            out['status_light'] = {'color': LIGHT_COLORS.get(light.color, '?'), 'flashing': light.flashing,
                                   'reason': light.reason}
        if s['mission'] is not None:
            m = s['mission']
            out['mission'] = {'name': m.mission_name, 'state': MISSION_STATES.get(m.state, '?'),
                              'leg': m.leg_index, 'legs': m.leg_count, 'leg_kind': m.leg_kind,
                              'leg_state': m.leg_state, 'distance': _finite(m.distance_to_target),
                              'message': m.message}
        return _json_safe(out)

    def _fix(self, fix: NavSatFix) -> dict:
        out = {'lat': fix.latitude, 'lon': fix.longitude, 'status': int(fix.status.status),
               'sigma': math.sqrt(max(fix.position_covariance[0], 0.0)), 'x': None, 'y': None}
        datum = self._datum
        if datum is not None and math.isfinite(fix.latitude) and math.isfinite(fix.longitude):
            out['x'] = math.radians(fix.longitude - datum.longitude) * EARTH_RADIUS * math.cos(
                math.radians(datum.latitude))
            out['y'] = math.radians(fix.latitude - datum.latitude) * EARTH_RADIUS
        return out

    # --- the timer steps -------------------------------------------------------------------------
    def _step(self) -> None:
        while True:
            try:
                action = self._actions.get_nowait()
            except queue.Empty:
                break
            self._dispatch(action)
        with self._lock:
            out = self.core.step(time.monotonic())
            pages = len(self.core.sessions)
        self._follow_pages(pages > 0)
        if out.command is not None:
            self._cmd_pub.publish(base_link_twist(self.get_clock().now().to_msg(), *out.command))
        self._step_count += 1
        if not self.core.lock_known:
            return     # nothing decided in this process: a respawn leaves the last lock value in place
        changed = out.lock != self._lock_sent
        if changed or self._step_count % max(1, int(self.params.rate / 2)) == 0:   # re-sent at 2 Hz
            if out.lock and changed:
                self.get_logger().warning(f'base-station lock engaged: {out.lock_reason}')
            self._lock_sent = out.lock
            self._lock_pub.publish(Bool(data=out.lock))

    def _follow_pages(self, wanted: bool) -> None:
        """Subscribe to the page-only streams (odometry, camera) while pages are connected, and only then."""
        if wanted and not self._odometry_subs:
            self._odometry_subs = [
                self.create_subscription(Odometry, 'odom', lambda m: self._store('odom', m), command_qos()),
                self.create_subscription(Odometry, 'odometry/filtered', lambda m: self._store('filtered', m),
                                         sensor_qos(depth=10))]
        elif not wanted and self._odometry_subs:
            for sub in self._odometry_subs:
                self.destroy_subscription(sub)
            self._odometry_subs = []
        wanted = wanted and self.params.camera_rate > 0
        if wanted and self._camera_sub is None:
            self._camera_sub = self.create_subscription(Image, 'camera/image_raw', self._on_image,
                                                        image_qos())
        elif not wanted and self._camera_sub is not None:
            self.destroy_subscription(self._camera_sub)
            self._camera_sub, self._frame = None, None

    def _dispatch(self, action: tuple) -> None:
        if action[0] == 'estop_reset':
            session = action[1]
            self._estop_pub.publish(Bool(data=False))
            self._call(self._reset_client, 'estop_reset', session)
        elif action[0] == 'mission':
            _, verb, name, session = action
            if verb in MISSION_SERVICES:
                self._call(self._mission_clients[verb], f'mission {verb}', session)
            elif verb == 'start':
                self._start_mission(name, session)
            elif verb == 'cancel':
                if self._goal_handle is None:
                    session.outbox.append({'type': 'result', 'of': 'mission cancel', 'success': False,
                                           'message': 'no mission started from this bridge'})
                else:
                    self._goal_handle.cancel_goal_async()
                    session.outbox.append({'type': 'result', 'of': 'mission cancel', 'success': True,
                                           'message': 'cancel requested'})

    def _call(self, client, what: str, session: Session) -> None:
        if not client.service_is_ready():
            session.outbox.append({'type': 'result', 'of': what, 'success': False, 'message': 'unavailable'})
            return
        future = client.call_async(Trigger.Request())
        future.add_done_callback(lambda f: session.outbox.append(
            {'type': 'result', 'of': what, 'success': bool(f.result() and f.result().success),
             'message': f.result().message if f.result() else 'no response'}))

    def _start_mission(self, name: str, session: Session) -> None:
        if not self._mission_action.server_is_ready():
            session.outbox.append({'type': 'result', 'of': 'mission start', 'success': False,
                                   'message': 'unavailable'})
            return
        future = self._mission_action.send_goal_async(ExecuteMission.Goal(mission_file=name))

        def accepted(f):
            handle = f.result()
            ok = bool(handle and handle.accepted)
            if ok:
                self._goal_handle = handle
            session.outbox.append({'type': 'result', 'of': 'mission start', 'success': ok,
                                   'message': f'{name} accepted' if ok else f'{name} rejected'})
        future.add_done_callback(accepted)

    def stop(self) -> None:
        """Publish one zero twist on the base-station source."""
        self._cmd_pub.publish(base_link_twist(self.get_clock().now().to_msg(), 0.0, 0.0))

    def destroy_node(self) -> None:
        self._server.stop()
        super().destroy_node()


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _json_safe(value):
    """``value`` with every NaN/inf float replaced by None: browsers' JSON.parse refuses NaN."""
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def main(args=None) -> int:
    # Signals raise KeyboardInterrupt with the context still valid, so the zero twist on exit is sent.
    return run_node(WebBridgeNode, NODE_NAME, args, graceful_signals=True,
                    before_destroy=lambda node: node.stop())


if __name__ == '__main__':
    raise SystemExit(main())
