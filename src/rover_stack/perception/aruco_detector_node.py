"""Node ``aruco_detector``: ArUco markers (pose, N-of-M confirmation) and gates from the camera."""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
from sensor_msgs.msg import Image

from rover_interfaces.msg import GateDetection, MarkerDetection, MarkerDetectionArray
from rover_stack.autonomy.mission import load_mission
from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param, watch_params
from rover_stack.common.qos import command_qos, image_qos
from rover_stack.perception.aruco import MarkerConfig, MarkerDetector, annotate
from rover_stack.perception.gates import find_gates, parse_pairs
from rover_stack.perception.image_pipeline import Frame, ImageProcessingNode, rgb_to_image
from rover_stack.perception.pose import range_bearing
from rover_stack.perception.tracking import ConfirmationTracker
from rover_stack.tf.ros_conversions import pose_msg
from rover_stack.tf.transform import Transform

NODE_NAME = 'aruco_detector'


@dataclass
class MarkerParams:
    dictionary: str = param('DICT_4X4_50', 'ArUco dictionary (cv2.aruco name)', read_only=True)
    marker_size: float = param(0.2, 'Side of the black marker square', unit='m', low=0.01, high=2.0,
                               read_only=True)
    # the detection thresholds are tuned in the field: writable (ros2 param set), used from the next frame
    min_side_px: float = param(12.0, 'Markers with a shorter side in the image are rejected', unit='px',
                               low=4.0, high=500.0)
    max_reprojection_error: float = param(2.0, 'Markers with a larger RMS corner reprojection error are '
                                          'rejected', unit='px', low=0.05, high=50.0)
    confirm_hits: int = param(3, 'N: frames (of the last M) a marker must be seen in to be confirmed',
                              low=1, high=100, read_only=True)
    confirm_window: int = param(5, 'M: frames in the confirmation window', low=1, high=100, read_only=True)
    gate_pairs: list = param([-1],  # noqa: RUF009 (param gives lists a default_factory)
                              'Gate marker pairs as a flat list [left, right, left, right, ...]; '
                             '[-1] = none', read_only=True)
    mission: str = param('', 'Mission name or file whose gate legs add gate pairs; empty = none',
                         read_only=True)
    gate_min_width: float = param(0.5, 'Narrower marker pairs are not published as gates', unit='m',
                                  low=0.0, high=50.0, read_only=True)
    gate_max_width: float = param(6.0, 'Wider marker pairs are not published as gates', unit='m',
                                  low=0.1, high=100.0, read_only=True)
    base_frame: str = param('base_link', 'Frame of pose_base, range, bearing and gates', read_only=True)
    publish_annotated: bool = param(False, 'Publish markers/annotated (costs CPU)', read_only=True)
    diagnostics_period: float = param(1.0, 'Period of the diagnostics message', unit='s', low=0.1, high=60.0,
                                      read_only=True)


def gate_pairs_from(p: MarkerParams) -> list[tuple[int, int]]:
    flat = [] if list(p.gate_pairs) == [-1] else list(p.gate_pairs)
    pairs = parse_pairs(flat)
    if p.mission:
        for leg in load_mission(p.mission).legs:
            if leg.kind == 'gate' and (leg.left_tag, leg.right_tag) not in pairs:
                pairs.append((leg.left_tag, leg.right_tag))
    return pairs


def marker_config(p: MarkerParams) -> MarkerConfig:
    return MarkerConfig(p.dictionary, p.marker_size, p.min_side_px, p.max_reprojection_error)


class ArucoDetectorNode(ImageProcessingNode):
    """Detects ArUco markers, confirms them over frames and forms gates of configured pairs.

    Subscribes: ``camera/image_raw`` (sensor_msgs/Image rgb8/bgr8/mono8), ``camera/camera_info``
    (sensor_msgs/CameraInfo: K px, D) with image QoS; ``tf``/``tf_static`` for camera -> ``base_frame``.
    Only the newest image is processed (worker thread); overwritten ones are counted as dropped.
    Publishes:
      * ``markers`` (rover_interfaces/MarkerDetectionArray, reliable) once per processed image: every
        accepted marker with pose in the camera optical frame and in ``base_frame``, range (m,
        horizontal) and bearing (rad, CCW from +x) in ``base_frame``, reprojection error (px), corners
        (px), confidence (fraction of the window seen) and ``confirmed`` (seen in N of the last M frames).
        Without a camera -> base transform, base_frame is empty and range/bearing are in the camera frame.
      * ``gates`` (rover_interfaces/GateDetection): when both markers of a pair are confirmed; pose in
        ``base_frame`` at the midpoint, +x along the normal with the left marker on +y; width (m).
      * ``markers/annotated`` (sensor_msgs/Image rgb8) only when ``publish_annotated`` is true.
      * ``diagnostics`` (diagnostic_msgs/DiagnosticArray): frames received/processed/dropped, rejections.
    Parameters: see ``MarkerParams`` (dictionary, marker_size m, min_side_px px, max_reprojection_error px,
    confirm_hits N, confirm_window M, gate_pairs, mission, gate widths m, base_frame, publish_annotated,
    diagnostics_period s); min_side_px and max_reprojection_error may be changed at run time, the others
    are read-only.
    """

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, base_frame='base_link', **node_kwargs)
        self.params = p = declare_params(self, MarkerParams)
        self.base_frame = p.base_frame
        try:
            self.detector = MarkerDetector(marker_config(p))
            self.tracker = ConfirmationTracker(p.confirm_hits, p.confirm_window)
            self.pairs = gate_pairs_from(p)
        except (ValueError, LookupError) as error:
            self.destroy_node()
            raise ValueError(f'{NODE_NAME}: {error}') from None
        self.rejected: dict[str, int] = {}
        self._lock = threading.Lock()   # tracker and counters: worker writes, diagnostics read
        watch_params(self, MarkerParams, self._retune)
        self.published = 0
        self._markers_pub = self.create_publisher(MarkerDetectionArray, 'markers', command_qos())
        self._gates_pub = self.create_publisher(GateDetection, 'gates', command_qos())
        self._annotated_pub = (self.create_publisher(Image, 'markers/annotated', image_qos())
                               if p.publish_annotated else None)
        self.get_logger().info(f'{p.dictionary}, {p.marker_size:g} m markers, confirm {p.confirm_hits} of '
                               f'{p.confirm_window}, gates {self.pairs or "none"}')
        self.start_worker()

    def _retune(self, new: MarkerParams) -> None:
        """``ros2 param set`` of the thresholds: a new detector, swapped in between two frames."""
        detector = MarkerDetector(marker_config(new))
        with self._lock:
            self.detector = detector

    def process(self, frame: Frame, image: np.ndarray) -> None:
        with self._lock:
            self._process(frame, image)

    def _process(self, frame: Frame, image: np.ndarray) -> None:
        observations = self.detector.detect(image, frame.camera)
        header = frame.header
        out = MarkerDetectionArray()
        out.header = header
        seen: dict[int, np.ndarray] = {}
        accepted = []
        for obs in observations:
            if obs.rejected is not None:
                self.rejected[obs.rejected] = self.rejected.get(obs.rejected, 0) + 1
                continue
            base_pose = (frame.base_from_camera @ obs.pose.transform
                         if frame.base_from_camera is not None else None)
            seen[obs.marker_id] = base_pose.translation if base_pose is not None else None
            accepted.append((obs, base_pose))
        self.tracker.update(seen)
        for obs, base_pose in accepted:
            state = self.tracker.state(obs.marker_id)
            det = MarkerDetection(kind=MarkerDetection.KIND_ARUCO, id=obs.marker_id,
                                  label=self.params.dictionary, size=self.params.marker_size,
                                  reprojection_error=obs.reprojection_error,
                                  confidence=float(state.hits / self.tracker.window),
                                  confirmed=state.confirmed)
            det.header = header
            det.pose_camera = pose_msg(obs.pose.transform)
            if base_pose is not None:
                det.base_frame = self.base_frame
                det.pose_base = pose_msg(base_pose)
                det.range, det.bearing = range_bearing(base_pose.translation)
            else:
                t = obs.pose.transform.translation
                det.range, det.bearing = math.hypot(t[0], t[2]), math.atan2(-t[0], t[2])
            det.corners = [float(v) for v in obs.corners.ravel()]
            out.detections.append(det)
        self._markers_pub.publish(out)
        self.published += 1
        if frame.base_from_camera is not None and self.pairs:
            positions = {i: self.tracker.state(i).payload for i in self.tracker.confirmed_ids()}
            positions = {i: v for i, v in positions.items() if v is not None}
            p = self.params
            for gate in find_gates(self.pairs, positions, p.gate_min_width, p.gate_max_width):
                msg = GateDetection(left_id=gate.left_id, right_id=gate.right_id, width=gate.width)
                msg.header.stamp = header.stamp
                msg.header.frame_id = self.base_frame
                msg.pose = pose_msg(Transform(gate.midpoint, gate.quaternion))
                self._gates_pub.publish(msg)
        if self._annotated_pub is not None:
            rgb = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
            drawn = annotate(rgb, observations, frame.camera, self.params.marker_size)
            self._annotated_pub.publish(rgb_to_image(drawn, header.stamp, header.frame_id))

    def extra_diagnostics(self) -> dict[str, str]:
        with self._lock:
            values = {f'rejected_{k}': str(v) for k, v in sorted(self.rejected.items())}
            values['confirmed_ids'] = ','.join(map(str, self.tracker.confirmed_ids()))
            values['marker_arrays_published'] = str(self.published)
        return values


def main(args=None) -> int:
    return run_node(ArucoDetectorNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
