"""Node ``camera_driver``: frames from a camera, video file or stream (cv2.VideoCapture) published per
the hardware contract, with CameraInfo from a ROS calibration file; reconnects with back-off."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image

from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param
from rover_stack.common.qos import command_qos, image_qos
from rover_stack.perception.image_cdr import encode_image
from rover_stack.perception.pose import CalibrationError, CameraModel, load_calibration

NODE_NAME = 'camera_driver'


@dataclass
class CameraDriverParams:
    device: str = param('0', 'Camera: a device index (0), a device path (/dev/video0), a file or a URL',
                        read_only=True)
    width: int = param(640, 'Requested image width', unit='px', low=16, high=4096, read_only=True)
    height: int = param(480, 'Requested image height', unit='px', low=16, high=4096, read_only=True)
    fps: float = param(15.0, 'Publishing rate (frames read faster are paced)', unit='Hz', low=0.5, high=120.0,
                       read_only=True)
    frame_id: str = param('camera_optical_frame', 'frame_id of images and camera_info', read_only=True)
    calibration_file: str = param('', 'ROS camera_info YAML; empty = ideal pinhole from fovy', read_only=True)
    fovy: float = param(50.0, 'Vertical field of view used without a calibration file', unit='deg', low=5.0,
                        high=170.0, read_only=True)
    reconnect_min: float = param(0.5, 'First wait before reopening a lost camera', unit='s', low=0.01,
                                 high=60.0, read_only=True)
    reconnect_max: float = param(5.0, 'Longest wait between reopening attempts', unit='s', low=0.01,
                                 high=600.0, read_only=True)


def parse_source(device: str) -> int | str:
    """'0' -> 0 (a device index); anything else (path, file, URL) as is."""
    text = device.strip()
    if not text:
        raise ValueError('device is empty (expected an index, a path or a URL)')
    return int(text) if text.isdigit() else text


class ReconnectingCapture:
    """A cv2.VideoCapture that is reopened with exponential back-off whenever opening or reading fails.

    ``read(stop)`` returns a BGR frame, or None once ``stop`` is set. Not thread-safe: one reader.
    ``log`` gets the state changes (opened, stopped delivering), ``log_retry`` the repeated failed
    opening attempts (default ``log``; the node throttles it).
    """

    def __init__(self, source: int | str, *, width: int, height: int, fps: float, backoff_min: float,
                 backoff_max: float, log: Callable[[str], None], opener=cv2.VideoCapture,
                 log_retry: Callable[[str], None] | None = None):
        self.source, self.width, self.height, self.fps = source, width, height, fps
        self.backoff_min, self.backoff_max = backoff_min, max(backoff_min, backoff_max)
        self._log = log
        self._log_retry = log_retry or log
        self._opener = opener
        self._capture = None
        self._backoff = backoff_min
        self.open_attempts = 0
        self.reconnects = 0     # openings after the first successful one was lost
        self.failures = 0       # failed opens and failed reads
        self.ever_opened = False

    @property
    def connected(self) -> bool:
        return self._capture is not None

    def _open(self) -> bool:
        self.open_attempts += 1
        capture = self._opener(self.source)
        if not capture.isOpened():
            capture.release()
            self.failures += 1
            return False
        if isinstance(self.source, int):
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            capture.set(cv2.CAP_PROP_FPS, self.fps)
        if self.ever_opened:
            self.reconnects += 1
        self.ever_opened = True
        self._capture = capture
        self._log(f'opened camera {self.source!r}')
        return True

    def read(self, stop: threading.Event) -> np.ndarray | None:
        while not stop.is_set():
            if self._capture is None:
                if self._open():
                    continue
                self._log_retry(f'cannot open camera {self.source!r}; retrying in {self._backoff:.2f} s')
                stop.wait(self._backoff)
                self._backoff = min(self._backoff * 2.0, self.backoff_max)
                continue
            ok, frame = self._capture.read()
            if ok and frame is not None:
                self._backoff = self.backoff_min
                return frame
            self.failures += 1
            self._log(f'camera {self.source!r} stopped delivering frames; reopening')
            self.release()
            stop.wait(self._backoff)
            self._backoff = min(self._backoff * 2.0, self.backoff_max)
        return None

    def release(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def camera_info_msg(camera: CameraModel, stamp, frame_id: str) -> CameraInfo:
    msg = CameraInfo(width=camera.width, height=camera.height, distortion_model=camera.distortion_model)
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.d = [float(v) for v in camera.d]
    msg.k = [float(v) for v in camera.k.ravel()]
    msg.r = [float(v) for v in camera.r.ravel()]
    msg.p = [float(v) for v in camera.p.ravel()]
    return msg


class CameraDriverNode(Node):
    """Publishes a camera per the hardware contract (config/hardware_interface.yaml).

    Publishes (image QoS: reliable, depth 1):
      * ``camera/image_raw`` (sensor_msgs/Image, rgb8, ``frame_id``), at most ``fps`` Hz;
      * ``camera/camera_info`` (sensor_msgs/CameraInfo) with the same stamp: K, D, R, P (px) from
        ``calibration_file`` (scaled when the camera delivers another size), else an ideal pinhole
        of vertical field of view ``fovy``;
      * ``diagnostics`` (diagnostic_msgs/DiagnosticArray, 1 Hz): connected, frames, open attempts,
        reconnects, failures.
    The camera is read on a worker thread; when it cannot be opened or stops delivering frames it is
    reopened after reconnect_min s, doubling to reconnect_max s (a video file is thus replayed in a loop).
    Parameters (read-only): device, width (px), height (px), fps (Hz), frame_id, calibration_file,
    fovy (deg), reconnect_min (s), reconnect_max (s).
    """

    def __init__(self, opener=cv2.VideoCapture, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_params(self, CameraDriverParams)
        try:
            source = parse_source(p.device)
            self.calibration = (load_calibration(Path(p.calibration_file)) if p.calibration_file
                                else CameraModel.from_fov(p.width, p.height, p.fovy))
        except (ValueError, CalibrationError) as error:
            self.destroy_node()
            raise ValueError(f'{NODE_NAME}: {error}') from None
        if not p.calibration_file:
            self.get_logger().warning(f'no calibration_file: publishing an ideal pinhole ({p.fovy:g} deg)')
        self._scaled: CameraModel | None = None
        self.frames_published = 0
        self.capture = ReconnectingCapture(source, width=p.width, height=p.height, fps=p.fps,
                                           backoff_min=p.reconnect_min, backoff_max=p.reconnect_max,
                                           log=self.get_logger().info, log_retry=self._log_throttled,
                                           opener=opener)
        self._image_pub = self.create_publisher(Image, 'camera/image_raw', image_qos())
        self._info_pub = self.create_publisher(CameraInfo, 'camera/camera_info', image_qos())
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', command_qos())
        self.create_timer(1.0, self._publish_diagnostics)
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run, name=f'{NODE_NAME}_capture', daemon=True)
        self._worker.start()

    def _log_throttled(self, text: str) -> None:
        self.get_logger().info(text, throttle_duration_sec=5.0)

    def _camera_for(self, width: int, height: int) -> CameraModel:
        if (width, height) == (self.calibration.width, self.calibration.height):
            return self.calibration
        if self._scaled is None or (self._scaled.width, self._scaled.height) != (width, height):
            self.get_logger().warning(f'camera delivers {width}x{height}, calibration is for '
                                      f'{self.calibration.width}x{self.calibration.height}: scaling K and P')
            self._scaled = self.calibration.scaled_to(width, height)
        return self._scaled

    def _run(self) -> None:
        period = 1.0 / self.params.fps
        next_time = time.monotonic()
        while not self._stop.is_set():
            frame = self.capture.read(self._stop)
            if frame is None:
                break
            wait = next_time - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                break
            next_time = max(next_time + period, time.monotonic() - period)
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if frame.ndim == 3 else frame
            stamp = self.get_clock().now().to_msg()
            camera = self._camera_for(rgb.shape[1], rgb.shape[0])
            try:
                # already serialized, as the simulator does: rclpy's serialization costs ~2 ms a 640x480 frame
                self._image_pub.publish(encode_image(stamp.sec, stamp.nanosec, self.params.frame_id, rgb))
                self._info_pub.publish(camera_info_msg(camera, stamp, self.params.frame_id))
            except _rclpy.RCLError:
                if not self.context.ok():
                    break          # shutting down (Ctrl-C): the context went before this thread stopped
                raise
            self.frames_published += 1

    def _publish_diagnostics(self) -> None:
        c = self.capture
        values = {'connected': str(c.connected), 'frames_published': str(self.frames_published),
                  'open_attempts': str(c.open_attempts), 'reconnects': str(c.reconnects),
                  'failures': str(c.failures), 'device': str(c.source)}
        level = DiagnosticStatus.OK if c.connected else DiagnosticStatus.ERROR
        status = DiagnosticStatus(level=level, name=f'{self.get_name()}: camera',
                                  message='streaming' if c.connected else 'camera not available',
                                  values=[KeyValue(key=k, value=v) for k, v in values.items()])
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)

    def destroy_node(self) -> None:
        stop = getattr(self, '_stop', None)
        if stop is not None:
            stop.set()
            self._worker.join(timeout=5.0)
            self.capture.release()
        super().destroy_node()


def main(args=None) -> int:
    return run_node(CameraDriverNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
