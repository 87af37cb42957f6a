"""Shared plumbing of the camera-processing nodes: Image <-> numpy, and a base node that keeps only
the latest frame and processes it on a worker thread.

``ImageProcessingNode`` subscribes to ``camera/image_raw`` and ``camera/camera_info`` (image QoS). The
image callback only stores: it reads the serialized image in place (``image_cdr``: no Python message is
built), pairs it with the newest calibration and the camera -> base transform and puts it in a
``LatestFrame``; a worker thread takes the newest frame and calls ``process``.

The image subscription sits in a ``FrameGate`` callback group: the executor takes an image only while
the slot is empty (the gate opens when the worker takes the frame). A camera faster than the
processing then costs nothing in Python: its surplus frames are replaced in DDS's depth-1 history
(measured: taking a 640x480 frame costs ~1.1 ms of CPU). They are counted from the gaps in the
publisher's sequence numbers, and reported as dropped on ``diagnostics`` with the received/processed
counts and the processing time. A frame whose ``process`` raises is logged with its traceback,
counted (``process_errors``, diagnostics level ERROR) and skipped; the worker goes on with the next.
"""
from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from rover_stack.common.qos import command_qos, image_qos
from rover_stack.perception.image_cdr import ImageView, decode_image
from rover_stack.perception.latest_frame import LatestFrame, SequenceGaps
from rover_stack.perception.pose import CalibrationError, CameraModel
from rover_stack.tf import listener as tf_listener
from rover_stack.tf.buffer import TransformBuffer, TransformLookupError
from rover_stack.tf.transform import Transform

_CHANNELS = {'rgb8': 3, 'bgr8': 3, 'mono8': 1}


def image_to_rgb(msg: Image | ImageView) -> np.ndarray:
    """H x W x 3 uint8 RGB (or H x W for mono8) view of an Image; ValueError for what cannot be read."""
    channels = _CHANNELS.get(msg.encoding)
    if channels is None:
        raise ValueError(f'unsupported encoding {msg.encoding!r} (rgb8, bgr8 or mono8)')
    row = msg.width * channels
    if msg.width == 0 or msg.height == 0 or msg.step < row or len(msg.data) < msg.step * msg.height:
        raise ValueError(f'image {msg.width}x{msg.height} step {msg.step} does not match '
                         f'{len(msg.data)} bytes')
    array = np.frombuffer(msg.data, dtype=np.uint8, count=msg.step * msg.height).reshape(msg.height, msg.step)
    array = array[:, :row]
    if channels == 1:
        return array
    array = array.reshape(msg.height, msg.width, 3)
    return array[:, :, ::-1] if msg.encoding == 'bgr8' else array


def rgb_to_image(array: np.ndarray, stamp, frame_id: str) -> Image:
    """An rgb8 (or mono8 for 2-D arrays) Image of a uint8 array."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    msg = Image(height=array.shape[0], width=array.shape[1], is_bigendian=0)
    msg.encoding = 'mono8' if array.ndim == 2 else 'rgb8'
    msg.step = array.shape[1] * (1 if array.ndim == 2 else 3)
    msg.data = array.tobytes()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    return msg


class FrameGate(CallbackGroup):
    """Callback group of an entity whose callbacks run only while the gate is open (thread-safe).

    While closed, ``can_execute`` is false, so the executor leaves the entity out of its wait set and
    takes nothing from it. The callback closes the gate itself (``close``) when it has handed work on;
    whoever opens it from another thread must wake the executor. One callback runs at a time.
    """

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self._open = True
        self._active = False

    def can_execute(self, entity) -> bool:
        return self._open and not self._active

    def beginning_execution(self, entity) -> bool:
        with self._lock:
            if not self._open or self._active:
                return False
            self._active = True
            return True

    def ending_execution(self, entity) -> None:
        with self._lock:
            self._active = False

    def open(self) -> None:
        with self._lock:
            self._open = True

    def close(self) -> None:
        with self._lock:
            self._open = False

    @property
    def is_open(self) -> bool:
        return self._open


@dataclass
class Frame:
    """One image ready for processing."""

    msg: ImageView                       # the serialized image, read in place
    camera: CameraModel
    base_from_camera: Transform | None   # T_base_camera, None when tf has no path yet
    received: float                      # time.monotonic() at the callback

    @property
    def header(self) -> Header:
        """The image's header, for the messages made from it."""
        return Header(stamp=Time(sec=self.msg.sec, nanosec=self.msg.nanosec), frame_id=self.msg.frame_id)


class ImageProcessingNode(Node):
    """Base class; subclasses implement ``process(frame, image)``, may add diagnostics values, and call
    ``start_worker()`` at the end of their constructor."""

    def __init__(self, name: str, base_frame: str, diagnostics_period: float = 1.0, **node_kwargs):
        super().__init__(name, **node_kwargs)
        self.base_frame = base_frame
        self._min_period = 0.0               # s between the stamps of processed images (0: every image)
        self._last_stamp = -float('inf')
        self.frames = LatestFrame()
        self.tf_buffer = TransformBuffer()
        self.tf_listener = tf_listener.TransformListener(self, self.tf_buffer)
        self._camera: CameraModel | None = None
        self._camera_source = None
        self.skipped = {'no_camera_info': 0, 'bad_image': 0, 'no_transform': 0, 'rate_limited': 0}
        self.process_times: deque[float] = deque(maxlen=200)   # s per processed frame
        self.process_errors = 0              # frames whose process() raised (logged, skipped)
        self.last_process_error = ''
        self._errors_reported = 0            # process_errors at the last diagnostics message
        self.create_subscription(CameraInfo, 'camera/camera_info', self._on_camera_info, image_qos())
        self._gate = FrameGate()
        self._gaps = SequenceGaps()
        self.create_subscription(Image, 'camera/image_raw', self._on_image, image_qos(), raw=True,
                                 callback_group=self._gate)
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', command_qos())
        self.create_timer(diagnostics_period, self._publish_diagnostics)
        self._worker = threading.Thread(target=self._work, name=f'{name}_worker', daemon=True)

    def limit_rate(self, max_rate: float) -> None:
        """Process at most ``max_rate`` images per second of image stamps (0: every image)."""
        self._min_period = 1.0 / max_rate if max_rate > 0.0 else 0.0

    def start_worker(self) -> None:
        """Start processing; subclasses call this last in their constructor, once fully set up."""
        self._worker.start()

    @property
    def camera(self) -> CameraModel | None:
        """The newest valid calibration received (None until the first camera_info)."""
        return self._camera

    # ------------------------------------------------------------ callbacks: store only

    def _on_camera_info(self, msg: CameraInfo) -> None:
        key = (msg.width, msg.height, tuple(msg.k), tuple(msg.d))
        if key == self._camera_source:
            return
        try:
            self._camera = CameraModel.from_camera_info(msg)
            self._camera_source = key
        except CalibrationError as error:
            self.get_logger().error(f'ignoring camera_info: {error}', throttle_duration_sec=5.0)

    def _on_image(self, serialized: bytes, info) -> None:
        self.frames.count_dropped(self._gaps.missed_before(info.get('publication_sequence_number')))
        frame = self._frame_of(serialized)
        if frame is not None:
            self._gate.close()        # before the put: the worker reopens it when it takes the frame
            self.frames.put(frame)

    def _frame_of(self, serialized: bytes) -> Frame | None:
        """The image with its calibration and transform, ready for the worker; None if skipped."""
        try:
            msg = decode_image(serialized)
        except ValueError as error:
            self.skipped['bad_image'] += 1
            self.get_logger().error(f'bad image: {error}', throttle_duration_sec=5.0)
            return None
        if self._min_period:
            stamp = msg.stamp
            if 0.0 <= stamp - self._last_stamp < self._min_period - 1e-3:   # stamps going back: a restart
                self.skipped['rate_limited'] += 1
                return None
            self._last_stamp = stamp
        camera = self._camera
        if camera is None:
            self.skipped['no_camera_info'] += 1
            self.get_logger().warning('image without camera_info yet; skipped', throttle_duration_sec=5.0)
            return None
        if (msg.width, msg.height) != (camera.width, camera.height):
            try:
                camera = camera.scaled_to(msg.width, msg.height)
            except CalibrationError as error:   # e.g. a 0 x 0 image
                self.skipped['bad_image'] += 1
                self.get_logger().error(f'bad image: {error}', throttle_duration_sec=5.0)
                return None
        try:
            base_from_camera = self.tf_buffer.lookup(self.base_frame, msg.frame_id)
        except TransformLookupError as error:
            base_from_camera = None
            self.skipped['no_transform'] += 1
            self.get_logger().warning(f'no transform {msg.frame_id} -> {self.base_frame}: {error}',
                                      throttle_duration_sec=5.0)
        return Frame(msg, camera, base_from_camera, time.monotonic())

    # ------------------------------------------------------------ worker

    def _work(self) -> None:
        while not self.frames.closed:
            frame = self.frames.take(timeout=0.5)
            if frame is None:
                continue
            self._open_gate()   # the next image may come in while this one is processed
            try:
                image = image_to_rgb(frame.msg)
            except ValueError as error:
                self.skipped['bad_image'] += 1
                self.get_logger().error(f'bad image: {error}', throttle_duration_sec=5.0)
                continue
            start = time.perf_counter()
            try:
                self.process(frame, image)
            except Exception as error:  # noqa: BLE001 - one bad frame must not blind the node
                if not self.context.ok():   # shut down while processing: the publish had nowhere to go
                    return
                self.process_errors += 1
                self.last_process_error = f'{type(error).__name__}: {error}'
                self.get_logger().error(f'processing a frame failed ({self.process_errors} so far), frame '
                                        f'skipped:\n{traceback.format_exc()}', throttle_duration_sec=5.0)
                continue
            self.process_times.append(time.perf_counter() - start)

    def _open_gate(self) -> None:
        self._gate.open()
        executor = self.executor
        if executor is not None:
            executor.wake()   # it left the image subscription out of the wait set it is blocked in

    def process(self, frame: Frame, image: np.ndarray) -> None:   # pragma: no cover - abstract
        raise NotImplementedError

    def extra_diagnostics(self) -> dict[str, str]:
        return {}

    def _publish_diagnostics(self) -> None:
        counts = self.frames.counts()
        values = {f'frames_{k}': str(v) for k, v in counts.items()}
        values.update({f'skipped_{k}': str(v) for k, v in self.skipped.items()})
        values['process_errors'] = str(self.process_errors)
        times = np.array(self.process_times) * 1000.0
        if times.size:
            values['process_ms_p50'] = f'{np.percentile(times, 50):.1f}'
            values['process_ms_max'] = f'{times.max():.1f}'
        values.update(self.extra_diagnostics())
        level = DiagnosticStatus.OK
        message = 'ok'
        if self._camera is None:
            level, message = DiagnosticStatus.WARN, 'waiting for camera_info'
        elif self.process_errors > self._errors_reported:
            level = DiagnosticStatus.ERROR
            message = (f'{self.process_errors - self._errors_reported} frames failed in processing: '
                       f'{self.last_process_error}')
        elif counts['dropped'] > 0:
            message = f"{counts['dropped']} frames dropped (processing slower than the camera)"
        self._errors_reported = self.process_errors
        status = DiagnosticStatus(level=level, name=f'{self.get_name()}: frames', message=message,
                                  values=[KeyValue(key=k, value=v) for k, v in values.items()])
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)

    def destroy_node(self) -> None:
        self.frames.close()
        if self._worker.is_alive():
            self._worker.join(timeout=5.0)
        self.tf_listener.destroy()
        super().destroy_node()
