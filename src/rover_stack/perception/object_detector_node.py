"""Node ``object_detector``: URC ground objects (mallet, bottle) from the camera, by colour and shape."""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from rover_interfaces.msg import MarkerDetection, MarkerDetectionArray
from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param
from rover_stack.common.qos import command_qos
from rover_stack.perception.image_pipeline import Frame, ImageProcessingNode
from rover_stack.perception.objects import BOTTLE, MALLET, ColourBlobDetector, ColourClass
from rover_stack.perception.pose import range_bearing
from rover_stack.perception.tracking import ConfirmationTracker
from rover_stack.tf.ros_conversions import pose_msg
from rover_stack.tf.transform import Transform

NODE_NAME = 'object_detector'


@dataclass
class ObjectParams:
    base_frame: str = param('base_link', 'Frame of pose_base, range and bearing', read_only=True)
    max_per_class: int = param(3, 'Most detections per class and image', low=1, high=20, read_only=True)
    confirm_hits: int = param(2, 'N: processed frames (of the last M) a class must be seen in to be '
                              'confirmed', low=1, high=100, read_only=True)
    confirm_window: int = param(4, 'M: processed frames in the confirmation window', low=1, high=100,
                                read_only=True)
    max_rate: float = param(0.0, 'Most images processed per second, by their stamps (0 = every image)',
                            unit='Hz', low=0.0, high=100.0, read_only=True)
    diagnostics_period: float = param(1.0, 'Period of the diagnostics message', unit='s', low=0.1, high=60.0,
                                      read_only=True)


def _class_params(default: ColourClass):
    """Parameter dataclass of one colour class, defaults from ``default`` (declared as '<label>.<name>')."""

    @dataclass
    class ClassParams:
        enabled: bool = param(True, f'Detect {default.label}s', read_only=True)
        hsv_low: list = param(  # noqa: RUF009 (param gives lists a default_factory)
            list(default.hsv_low), 'Lower HSV bound (OpenCV: H 0..180, S, V 0..255)', read_only=True)
        hsv_high: list = param(  # noqa: RUF009
            list(default.hsv_high), 'Upper HSV bound; H below hsv_low wraps through red', read_only=True)
        size: float = param(default.size, 'Known physical size of the blob side named by size_side',
                            unit='m', low=0.005, high=5.0, read_only=True)
        size_side: str = param(default.size_side, 'Blob side the size applies to', choices=('short', 'long'),
                               read_only=True)
        min_aspect: float = param(default.min_aspect, 'Least long/short side ratio of a blob', low=1.0,
                                  high=50.0, read_only=True)
        max_aspect: float = param(default.max_aspect, 'Largest long/short side ratio of a blob', low=1.0,
                                  high=50.0, read_only=True)
        min_area_px: int = param(default.min_area_px, 'Smallest blob', unit='px', low=1, high=100000,
                                 read_only=True)
        upright: bool = param(default.upright, 'The blob must be taller than wide', read_only=True)
        max_range: float = param(default.max_range, 'Farther range estimates are discarded', unit='m',
                                 low=0.5, high=100.0, read_only=True)

    return ClassParams


class ObjectDetectorNode(ImageProcessingNode):
    """Finds the URC ground objects in the camera image and estimates where they are.

    Subscribes: ``camera/image_raw``, ``camera/camera_info`` (image QoS), ``tf``/``tf_static``; only the
    newest image is processed (worker thread), overwritten ones count as dropped.
    Publishes:
      * ``objects`` (rover_interfaces/MarkerDetectionArray, reliable), once per processed image:
        KIND_OBJECT detections, id -1, label 'mallet' or 'bottle', size (m) used for the range, pose of
        the object centre in the optical frame and ``base_frame`` (orientation identity), range (m,
        horizontal) and bearing (rad, CCW) in ``base_frame``, corners (px, blob rectangle), confidence.
        ``confirmed``: the class was seen in ``confirm_hits`` of the last ``confirm_window`` processed
        frames (the mission executive acts on confirmed detections only); reprojection_error is NaN.
      * ``diagnostics`` (diagnostic_msgs/DiagnosticArray): frames received/processed/dropped.
    Parameters (read-only): ``base_frame``, ``max_per_class``, ``confirm_hits``, ``confirm_window``,
    ``max_rate`` (Hz of image stamps; images
    in between are skipped and counted), ``diagnostics_period`` (s), and per class
    (``mallet.*``, ``bottle.*``): enabled, hsv_low, hsv_high, size (m), size_side, min_aspect,
    max_aspect, min_area_px (px), max_range (m), upright.
    """

    def __init__(self, detector=None, **node_kwargs):
        super().__init__(NODE_NAME, base_frame='base_link', **node_kwargs)
        self.params = p = declare_params(self, ObjectParams)
        self.base_frame = p.base_frame
        classes = []
        try:
            for default in (MALLET, BOTTLE):
                c = declare_params(self, _class_params(default), prefix=f'{default.label}.')
                if c.enabled:
                    classes.append(ColourClass(
                        default.label, tuple(c.hsv_low), tuple(c.hsv_high), c.size, c.size_side, c.min_aspect,
                        c.max_aspect, c.min_area_px, c.max_range, c.upright))
        except (ValueError, TypeError) as error:
            self.destroy_node()
            raise ValueError(f'{NODE_NAME}: {error}') from None
        self.detector = detector if detector is not None else ColourBlobDetector(classes, p.max_per_class)
        try:
            self.tracker = ConfirmationTracker(p.confirm_hits, p.confirm_window)   # keyed by class label
        except ValueError as error:
            self.destroy_node()
            raise ValueError(f'{NODE_NAME}: {error}') from None
        self.limit_rate(p.max_rate)
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._objects_pub = self.create_publisher(MarkerDetectionArray, 'objects', command_qos())
        self.get_logger().info(f"detecting {', '.join(c.label for c in classes) or 'nothing'}")
        self.start_worker()

    def process(self, frame: Frame, image: np.ndarray) -> None:
        if image.ndim != 3:
            image = np.repeat(image[:, :, None], 3, axis=2)
        found = self.detector.detect(image, frame.camera)
        with self._lock:
            self.tracker.update({obj.label: None for obj in found})
            confirmed = {obj.label: self.tracker.confirmed(obj.label) for obj in found}
        out = MarkerDetectionArray()
        out.header = header = frame.header
        for obj in found:
            in_camera = Transform(obj.position_camera)
            det = MarkerDetection(kind=MarkerDetection.KIND_OBJECT, id=-1, label=obj.label, size=obj.size,
                                  reprojection_error=float('nan'), confidence=obj.confidence,
                                  confirmed=confirmed[obj.label])
            det.header = header
            det.pose_camera = pose_msg(in_camera)
            if frame.base_from_camera is not None:
                in_base = frame.base_from_camera @ in_camera
                det.base_frame = self.base_frame
                det.pose_base = pose_msg(in_base)
                det.range, det.bearing = range_bearing(in_base.translation)
            else:
                x, _, z = obj.position_camera
                det.range, det.bearing = math.hypot(x, z), obj.bearing_camera
            det.corners = [float(v) for v in obj.corners.ravel()]
            out.detections.append(det)
            with self._lock:
                self.counts[obj.label] = self.counts.get(obj.label, 0) + 1
        self._objects_pub.publish(out)

    def extra_diagnostics(self) -> dict[str, str]:
        with self._lock:
            return {f'detected_{k}': str(v) for k, v in sorted(self.counts.items())}


def main(args=None) -> int:
    return run_node(ObjectDetectorNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
