"""What the Foxglove bridge relays: the telemetry of the base-station page, as ROS topics (pure).

Each entry: relative topic, ROS 2 message type, and the QoS profile name (common/qos.py) the bridge
subscribes with: ``latched`` for state published transient-local (re-sent to each new Foxglove
subscriber), ``sensor`` (best effort, accepts reliable and best-effort publishers) for streams,
``image`` for the camera.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RelayedTopic:
    topic: str        # relative ROS topic name
    type_name: str    # e.g. nav_msgs/msg/Odometry
    qos: str          # sensor, image or latched

    @property
    def latched(self) -> bool:
        return self.qos == 'latched'


TELEMETRY = (
    RelayedTopic('odom', 'nav_msgs/msg/Odometry', 'sensor'),                        # wheel odometry, odom
    RelayedTopic('odometry/filtered', 'nav_msgs/msg/Odometry', 'sensor'),           # EKF pose, map
    RelayedTopic('gnss/fix', 'sensor_msgs/msg/NavSatFix', 'sensor'),
    RelayedTopic('datum', 'sensor_msgs/msg/NavSatFix', 'latched'),                  # map origin
    RelayedTopic('battery', 'sensor_msgs/msg/BatteryState', 'sensor'),
    RelayedTopic('active_source', 'std_msgs/msg/String', 'latched'),                # arbitration winner
    RelayedTopic('status_light', 'rover_interfaces/msg/StatusLight', 'latched'),
    RelayedTopic('mission/status', 'rover_interfaces/msg/MissionStatus', 'latched'),
    RelayedTopic('estop_state', 'std_msgs/msg/Bool', 'latched'),
    RelayedTopic('base_station/lock', 'std_msgs/msg/Bool', 'latched'),
    RelayedTopic('markers', 'rover_interfaces/msg/MarkerDetectionArray', 'sensor'),  # ArUco detections
    RelayedTopic('objects', 'rover_interfaces/msg/MarkerDetectionArray', 'sensor'),  # object detections
    RelayedTopic('gates', 'rover_interfaces/msg/GateDetection', 'sensor'),
    RelayedTopic('plan', 'nav_msgs/msg/Path', 'sensor'),                            # navigator's path, map
)
CAMERA = RelayedTopic('camera/image_raw', 'sensor_msgs/msg/Image', 'image')


def relayed_topics(camera: bool) -> tuple[RelayedTopic, ...]:
    """The telemetry topics, and the camera when ``camera``."""
    return TELEMETRY + ((CAMERA,) if camera else ())

