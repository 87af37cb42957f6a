"""Record the main topics of a run to a ROS 2 MCAP file and keep what the report needs.

Messages are taken serialized (raw subscriptions) and written unchanged as CDR with 'ros2msg'
schemas (msgdefs.py), the layout of `ros2 bag record -s mcap`; mcap_ros2 and rosbags read it back.
"""
from __future__ import annotations

import importlib
import json
import math
import time
from pathlib import Path

import numpy as np
from rclpy.node import Node
from rclpy.serialization import deserialize_message

from rover_stack.common.qos import latched_qos, sensor_qos
from rover_stack.common.stamps import stamp_seconds
from rover_stack.reporting.mcap_io import McapWriter
from rover_stack.reporting.report import Track
from rover_stack.tf.transform import yaw_from_quaternion

#: relative topic -> (type, latched)
TOPICS = {
    'sim/ground_truth': ('nav_msgs/msg/Odometry', False),
    'odometry/filtered': ('nav_msgs/msg/Odometry', False),
    'odom': ('nav_msgs/msg/Odometry', False),
    'gnss/fix': ('sensor_msgs/msg/NavSatFix', False),
    'markers': ('rover_interfaces/msg/MarkerDetectionArray', False),
    'objects': ('rover_interfaces/msg/MarkerDetectionArray', False),
    'gates': ('rover_interfaces/msg/GateDetection', False),
    'cmd_vel': ('geometry_msgs/msg/TwistStamped', False),
    'autonomy/cmd_vel': ('geometry_msgs/msg/TwistStamped', False),
    'tf': ('tf2_msgs/msg/TFMessage', False),
    'sim/collisions': ('std_msgs/msg/String', False),
    'mission/status': ('rover_interfaces/msg/MissionStatus', True),
    'status_light': ('rover_interfaces/msg/StatusLight', True),
    'active_source': ('std_msgs/msg/String', True),
    'estop_state': ('std_msgs/msg/Bool', True),
    'hardware_estop': ('std_msgs/msg/Bool', True),
    'datum': ('sensor_msgs/msg/NavSatFix', True),
}
#: The raw sensor streams ``rover replay`` feeds to fresh localization/perception nodes (recorded only
#: when asked: the camera alone is several MB/s).
SENSOR_TOPICS = {
    '/clock': ('rosgraph_msgs/msg/Clock', False),
    'joint_states': ('sensor_msgs/msg/JointState', False),
    'imu/data': ('sensor_msgs/msg/Imu', False),
    'scan': ('sensor_msgs/msg/LaserScan', False),
    'camera/image_raw': ('sensor_msgs/msg/Image', False),
    'camera/camera_info': ('sensor_msgs/msg/CameraInfo', False),
    'tf_static': ('tf2_msgs/msg/TFMessage', True),
}


def message_class(type_name: str):
    package, _, name = type_name.split('/')
    return getattr(importlib.import_module(f'{package}.msg'), name)


def _stamp(header) -> float:
    return stamp_seconds(header.stamp)


class RunRecorder:
    """Subscribes TOPICS (and SENSOR_TOPICS if ``sensors``) on ``node`` (namespace-relative), writes
    ``path`` and collects tracks."""

    def __init__(self, node: Node, path: str | Path, on_status=None, sensors: bool = False):
        self._node = node
        self._writer = McapWriter(path)
        self._names: dict[str, str] = {}
        self._classes: dict[str, type] = {}
        self._on_status = on_status
        self.truth, self.estimate = Track(), Track()
        self.estimate_yaw: list[float] = []
        self.fixes: list[tuple[float, float]] = []        # (lat, lon) deg
        self.detections: list[tuple[float, str, float, float]] = []   # (t, label, x_base, y_base)
        self.collisions: list[dict] = []
        self.statuses: list = []                            # (sim t, MissionStatus)
        self.sim_time = 0.0
        self.messages = 0
        for topic, (type_name, latched) in (TOPICS | (SENSOR_TOPICS if sensors else {})).items():
            self._names[topic] = node.resolve_topic_name(topic)
            self._writer.channel(self._names[topic], type_name)
            cls = self._classes[topic] = message_class(type_name)
            qos = latched_qos() if latched else sensor_qos(depth=100)
            node.create_subscription(cls, topic, lambda data, t=topic: self._on_message(t, data), qos,
                                     raw=True)

    def _on_message(self, topic: str, data: bytes) -> None:
        now = time.time_ns()
        self._writer.add(self._names[topic], data, now)
        self.messages += 1
        handler = getattr(self, '_on_' + topic.replace('/', '_'), None)
        if handler is not None:
            handler(deserialize_message(data, self._classes[topic]))

    def _on_sim_ground_truth(self, msg) -> None:
        t = _stamp(msg.header)
        self.sim_time = max(self.sim_time, t)
        self.truth.add(t, msg.pose.pose.position.x, msg.pose.pose.position.y)

    def _on_odometry_filtered(self, msg) -> None:
        before = len(self.estimate)
        self.estimate.add(_stamp(msg.header), msg.pose.pose.position.x, msg.pose.pose.position.y)
        if len(self.estimate) > before:
            q = msg.pose.pose.orientation
            self.estimate_yaw.append(yaw_from_quaternion(q.x, q.y, q.z, q.w))

    def _on_gnss_fix(self, msg) -> None:
        if msg.status.status >= 0 and math.isfinite(msg.latitude) and math.isfinite(msg.longitude):
            self.fixes.append((msg.latitude, msg.longitude))

    def _on_markers(self, msg) -> None:
        for d in msg.detections:
            if d.confirmed:
                label = d.label if d.kind == d.KIND_OBJECT else f'tag {d.id}'
                position = d.pose_base.position
                self.detections.append((_stamp(d.header), label, position.x, position.y))

    _on_objects = _on_markers

    def _on_sim_collisions(self, msg) -> None:
        try:
            self.collisions.append(json.loads(msg.data))
        except ValueError:
            self.collisions.append({'raw': msg.data})

    def _on_mission_status(self, msg) -> None:
        self.statuses.append((_stamp(msg.header), msg))
        if self._on_status is not None:
            self._on_status(msg)

    def detections_in_map(self) -> list[tuple[float, float, str]]:
        """Detections placed in the map with the estimate pose nearest in time."""
        result = []
        if not len(self.estimate):
            return result
        times = np.asarray(self.estimate.t)
        for t, label, bx, by in self.detections:
            i = int(np.argmin(np.abs(times - t)))
            x, y, yaw = self.estimate.x[i], self.estimate.y[i], self.estimate_yaw[i]
            result.append((x + math.cos(yaw) * bx - math.sin(yaw) * by,
                           y + math.sin(yaw) * bx + math.cos(yaw) * by, label))
        return result

    def close(self) -> None:
        self._writer.close()
