"""camera_driver in-process: a generated MJPG video file is published per the contract; a missing
device is retried with back-off, counted, without crashing."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, Image

from rover_stack.common.qos import command_qos, image_qos
from rover_stack.contract.checks import run_checks
from rover_stack.contract.model import load_contract
from rover_stack.perception.camera_driver_node import CameraDriverNode, ReconnectingCapture, parse_source
from rover_stack.testing.waiting import spin_until

TIMEOUT = 10.0
CALIBRATION = 'config/camera_info/example_640x480.yaml'


def write_video(path, frames=10, size=(320, 240)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 15.0, size)
    assert writer.isOpened()
    for i in range(frames):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        frame[:, :, 2] = 200                     # BGR red
        cv2.putText(frame, str(i), (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def rig(ros_context):
    created = []

    def make(**params):
        node = CameraDriverNode(context=ros_context,
                                parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
        probe = rclpy.create_node('camera_listener', context=ros_context)
        received = {'images': [], 'infos': [], 'diagnostics': []}
        probe.create_subscription(Image, 'camera/image_raw', received['images'].append, image_qos())
        probe.create_subscription(CameraInfo, 'camera/camera_info', received['infos'].append, image_qos())
        probe.create_subscription(DiagnosticArray, 'diagnostics', received['diagnostics'].append, command_qos())
        executor = SingleThreadedExecutor(context=ros_context)
        executor.add_node(node)
        executor.add_node(probe)
        created.extend([node, probe, executor])
        return node, received, executor

    yield make
    for item in reversed(created):
        if isinstance(item, SingleThreadedExecutor):
            item.shutdown(timeout_sec=1.0)
        else:
            item.destroy_node()


def test_video_file_frames_and_camera_info_are_published_and_the_file_loops(rig, tmp_path):
    calibration = str(Path(__file__).resolve().parents[2] / CALIBRATION)
    video = write_video(tmp_path / 'clip.avi', frames=10)
    node, received, executor = rig(device=str(video), fps=60.0, calibration_file=calibration,
                                   reconnect_min=0.05, reconnect_max=0.1)
    spin_until(executor, lambda: len(received['images']) >= 25 and len(received['infos']) >= 25, TIMEOUT,
               '25 frames (the 10-frame clip replayed)')
    image, info = received['images'][-1], received['infos'][-1]
    assert (image.width, image.height, image.encoding, image.step) == (320, 240, 'rgb8', 960)
    assert image.header.frame_id == info.header.frame_id == 'camera_optical_frame'
    pixels = np.frombuffer(image.data, np.uint8).reshape(240, 320, 3)
    assert pixels[200, 300, 0] > 150 and pixels[200, 300, 2] < 60      # BGR red arrives as RGB red
    assert (info.width, info.height) == (320, 240)                     # 640x480 calibration scaled
    assert info.k[0] == pytest.approx(514.7 / 2) and info.k[5] == pytest.approx(238.9 / 2)
    assert list(info.d) == pytest.approx([-0.112, 0.081, 0.0004, -0.0002, 0.0])
    stamps = {(m.header.stamp.sec, m.header.stamp.nanosec) for m in received['infos']}
    assert (image.header.stamp.sec, image.header.stamp.nanosec) in stamps
    assert node.capture.reconnects >= 1                                # end of file -> reopened
    contract = load_contract()
    for topic, msg in (('camera/image_raw', image), ('camera/camera_info', info)):
        spec = contract.topic(topic)
        assert run_checks(msg, spec.checks) == [], topic
        assert msg.header.frame_id == spec.frame_id


def test_missing_device_is_retried_with_back_off_without_crashing(rig, tmp_path):
    node, received, executor = rig(device=str(tmp_path / 'no_such_camera.avi'), reconnect_min=0.02,
                                   reconnect_max=0.08)
    spin_until(executor, lambda: node.capture.open_attempts >= 5, TIMEOUT, 'five open attempts')

    def error_reported():
        for array in received['diagnostics']:
            values = {kv.key: kv.value for kv in array.status[0].values}
            if values['connected'] == 'False' and int(values['open_attempts']) >= 1:
                return array.status[0].level == array.status[0].ERROR
        return False
    spin_until(executor, error_reported, TIMEOUT, 'camera error in diagnostics')
    assert received['images'] == [] and node.capture.failures >= 5 and not node.capture.connected


def test_backoff_doubles_up_to_the_maximum(ros_context, tmp_path):
    waits = []

    class Stop:
        def is_set(self):
            return len(waits) >= 6

        def wait(self, seconds):
            waits.append(seconds)
            return False

    class NeverOpens:
        def __init__(self, source):
            pass

        def isOpened(self):
            return False

        def release(self):
            pass

    capture = ReconnectingCapture('x', width=640, height=480, fps=15.0, backoff_min=0.5, backoff_max=3.0,
                                  log=lambda text: None, opener=NeverOpens)
    assert capture.read(Stop()) is None
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert capture.open_attempts == 6


def test_a_lost_stream_and_its_reopening_are_logged_apart_from_the_retries():
    """The state changes go to ``log`` (the node logs them as they happen), the failed attempts in between
    to ``log_retry`` (throttled): a throttle shared by both hid the reopening after a dropped stream."""
    script = iter(['open', 'frame', 'lost', 'refused', 'refused', 'open', 'frame'])

    class Scripted:
        def __init__(self, source):
            self.opened = next(script) == 'open'

        def isOpened(self):
            return self.opened

        def read(self):
            step = next(script)
            return (True, np.zeros((4, 4, 3), np.uint8)) if step == 'frame' else (False, None)

        def release(self):
            pass

    class Stop:
        def is_set(self):
            return False

        def wait(self, seconds):
            return False

    events, retries = [], []
    capture = ReconnectingCapture('http://cam/stream', width=4, height=4, fps=15.0, backoff_min=0.5,
                                  backoff_max=3.0, log=events.append, log_retry=retries.append, opener=Scripted)
    assert capture.read(Stop()) is not None
    assert capture.read(Stop()) is not None        # lost, refused twice, reopened
    assert events == ["opened camera 'http://cam/stream'",
                      "camera 'http://cam/stream' stopped delivering frames; reopening",
                      "opened camera 'http://cam/stream'"]
    assert len(retries) == 2 and all(r.startswith("cannot open camera 'http://cam/stream'") for r in retries)
    assert capture.reconnects == 1


def test_device_parsing_and_bad_calibration(ros_context, tmp_path):
    assert parse_source('0') == 0 and parse_source(' 2 ') == 2
    assert parse_source('/dev/video0') == '/dev/video0' and parse_source('rtsp://cam/1') == 'rtsp://cam/1'
    with pytest.raises(ValueError):
        parse_source('  ')
    with pytest.raises(ValueError, match='cannot read'):
        CameraDriverNode(context=ros_context, parameter_overrides=[
            Parameter('calibration_file', value=str(tmp_path / 'missing.yaml'))])
