"""The nodes `rover replay` can run again on a recording (cli/replay.py parses, cli/replay_session.py
runs): what each needs and publishes, topic names relative."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReplayTarget:
    """A node the replay can start: what it needs, what it publishes (relative topic names)."""
    node: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    outputs: tuple[str, ...]
    tf_frames: tuple[str, ...] = ()      # child frames it broadcasts on tf (dropped from recorded tf)


TARGETS = {
    'ekf_localization': ReplayTarget('ekf_localization', ('odom', 'gnss/fix'), ('imu/data',),
                                     ('odometry/filtered', 'datum'), ('odom',)),
    'aruco_detector': ReplayTarget('aruco_detector', ('camera/image_raw', 'camera/camera_info'),
                                   ('tf_static', 'tf'), ('markers', 'gates')),
    'obstacle_grid': ReplayTarget('obstacle_grid', ('scan', 'tf'), ('tf_static',), ('obstacles/grid',)),
}
GROUPS = {'ekf': ('ekf_localization',), 'perception': ('aruco_detector', 'obstacle_grid')}
#: Output topic -> type, for the replay recording.
OUTPUT_TYPES = {'odometry/filtered': 'nav_msgs/msg/Odometry', 'datum': 'sensor_msgs/msg/NavSatFix',
                'markers': 'rover_interfaces/msg/MarkerDetectionArray',
                'gates': 'rover_interfaces/msg/GateDetection', 'obstacles/grid': 'nav_msgs/msg/OccupancyGrid'}
