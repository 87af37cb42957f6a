"""aruco_detector in-process: synthetic images + camera_info + a static tf over DDS -> markers, gates,
and latest-frame dropping under a burst."""
import math
import threading

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, Image

from rover_interfaces.msg import GateDetection, MarkerDetection, MarkerDetectionArray
from rover_stack.common.qos import command_qos, image_qos
from rover_stack.perception.aruco_detector_node import ArucoDetectorNode
from rover_stack.perception.camera_driver_node import camera_info_msg
from rover_stack.perception.image_pipeline import FrameGate, rgb_to_image
from rover_stack.perception.pose import CameraModel
from rover_stack.perception.synthetic import background, degrade, draw_marker, facing_pose
from rover_stack.testing.waiting import spin_for, spin_until
from rover_stack.tf.listener import StaticTransformBroadcaster
from rover_stack.tf.transform import Transform

CAMERA = CameraModel.from_fov(640, 480, 45.0)
CAMERA_XYZ = (0.45, 0.0, 0.45)     # camera optical frame origin in base_link, looking along +x
OPTICAL = Transform.from_xyz_rpy(CAMERA_XYZ, (-math.pi / 2, 0.0, -math.pi / 2))
TIMEOUT = 10.0


class CameraProbe:
    """Publishes the static tf, camera_info and images; records markers, gates and diagnostics."""

    def __init__(self, context):
        self.node = rclpy.create_node('camera_probe', context=context)
        StaticTransformBroadcaster(self.node).send_transform('base_link', 'camera_optical_frame', 0, OPTICAL)
        self.image_pub = self.node.create_publisher(Image, 'camera/image_raw', image_qos())
        self.info_pub = self.node.create_publisher(CameraInfo, 'camera/camera_info', image_qos())
        self.markers: list[MarkerDetectionArray] = []
        self.gates: list[GateDetection] = []
        self.diagnostics: list[DiagnosticArray] = []
        self.node.create_subscription(MarkerDetectionArray, 'markers', self.markers.append, command_qos())
        self.node.create_subscription(GateDetection, 'gates', self.gates.append, command_qos())
        self.node.create_subscription(DiagnosticArray, 'diagnostics', self.diagnostics.append, command_qos())

    def send(self, image, camera=CAMERA):
        stamp = self.node.get_clock().now().to_msg()
        self.info_pub.publish(camera_info_msg(camera, stamp, 'camera_optical_frame'))
        self.image_pub.publish(rgb_to_image(image, stamp, 'camera_optical_frame'))


def scene(markers, seed=0, camera=CAMERA):
    image = background(camera, seed=seed)
    for marker_id, pose in markers:
        draw_marker(image, camera, marker_id, 0.2, pose)
    return degrade(image, noise_sigma=2.0, blur_sigma=0.6, seed=seed)


@pytest.fixture
def rig(ros_context):
    created = []

    def make(camera_info=True, **params):
        node = ArucoDetectorNode(context=ros_context,
                                 parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
        probe = CameraProbe(ros_context)
        executor = SingleThreadedExecutor(context=ros_context)
        executor.add_node(node)
        executor.add_node(probe.node)
        created.extend([node, probe.node, executor])
        spin_until(executor, lambda: probe.image_pub.get_subscription_count() > 0
                   and probe.info_pub.get_subscription_count() > 0, TIMEOUT, 'detector subscriptions')
        spin_until(executor, lambda: node.tf_buffer.can_transform('base_link', 'camera_optical_frame'),
                   TIMEOUT, 'static transform')
        if camera_info:   # first, so that no test image arrives before its calibration
            probe.info_pub.publish(camera_info_msg(CAMERA, probe.node.get_clock().now().to_msg(),
                                                   'camera_optical_frame'))
            spin_until(executor, lambda: node.camera is not None, TIMEOUT, 'camera_info')
        return node, probe, executor

    yield make
    for item in reversed(created):
        if isinstance(item, SingleThreadedExecutor):
            item.shutdown(timeout_sec=1.0)
        else:
            item.destroy_node()


def send_and_wait(node, probe, executor, image, count):
    """Publish one frame and wait until the detector has published ``count`` arrays."""
    probe.send(image)
    spin_until(executor, lambda: len(probe.markers) >= count, TIMEOUT, f'marker array {count}')


def test_marker_id_range_and_bearing_in_base_link(rig):
    node, probe, executor = rig(confirm_hits=2, confirm_window=3)
    truth = facing_pose(-0.3, 0.15, 2.0)       # 0.3 m left of the optical axis, 2 m ahead
    image = scene([(11, truth)])
    for i in range(1, 4):
        send_and_wait(node, probe, executor, image, i)
    detections = [d for array in probe.markers for d in array.detections]
    assert [d.id for d in detections] == [11, 11, 11]
    first, last = detections[0], detections[-1]
    assert first.kind == MarkerDetection.KIND_ARUCO and first.label == 'DICT_4X4_50'
    assert first.base_frame == 'base_link' and first.header.frame_id == 'camera_optical_frame'
    expected = OPTICAL.apply(truth.translation)                 # (2.45, 0.3, 0.3) in base_link
    assert last.range == pytest.approx(math.hypot(expected[0], expected[1]), rel=0.03)
    assert last.bearing == pytest.approx(math.atan2(expected[1], expected[0]), abs=0.02)
    assert last.pose_base.position.z == pytest.approx(expected[2], abs=0.06)
    assert last.reprojection_error < 1.0 and len(last.corners) == 8
    assert [d.confirmed for d in detections] == [False, True, True]
    assert probe.node.count_publishers('markers/annotated') == 0     # off by default


def test_gate_from_two_confirmed_markers(rig):
    node, probe, executor = rig(confirm_hits=2, confirm_window=3, gate_pairs=[3, 4, 5, 6])
    image = scene([(3, facing_pose(-0.8, 0.1, 3.0)), (4, facing_pose(0.8, 0.1, 3.0))])
    for i in range(1, 4):
        send_and_wait(node, probe, executor, image, i)
    spin_until(executor, lambda: len(probe.gates) >= 2, TIMEOUT, 'gates')
    gate = probe.gates[-1]
    assert (gate.left_id, gate.right_id) == (3, 4) and gate.header.frame_id == 'base_link'
    assert gate.width == pytest.approx(1.6, rel=0.05)
    assert gate.pose.position.x == pytest.approx(3.45, rel=0.03)
    assert gate.pose.position.y == pytest.approx(0.0, abs=0.05)
    assert abs(gate.pose.orientation.z) < 0.05      # normal along +x: drive straight through
    assert sorted(d.id for d in probe.markers[-1].detections) == [3, 4]


def test_images_without_camera_info_are_skipped_and_bad_images_do_not_stop_the_node(rig):
    node, probe, executor = rig(camera_info=False)
    probe.image_pub.publish(rgb_to_image(scene([]), probe.node.get_clock().now().to_msg(), 'camera_optical_frame'))
    spin_until(executor, lambda: node.skipped['no_camera_info'] == 1, TIMEOUT, 'skipped image')
    bad = rgb_to_image(scene([]), probe.node.get_clock().now().to_msg(), 'camera_optical_frame')
    bad.encoding = '16UC1'
    probe.info_pub.publish(camera_info_msg(CAMERA, bad.header.stamp, 'camera_optical_frame'))
    spin_until(executor, lambda: node.camera is not None, TIMEOUT, 'camera_info')
    probe.image_pub.publish(bad)
    spin_until(executor, lambda: node.skipped['bad_image'] == 1, TIMEOUT, 'bad image counted')
    send_and_wait(node, probe, executor, scene([(2, facing_pose(0.0, 0.0, 2.0))]), 1)
    assert [d.id for d in probe.markers[0].detections] == [2]


def test_a_burst_is_processed_latest_first_and_drops_are_counted(rig):
    node, probe, executor = rig(diagnostics_period=0.2)
    big = CameraModel.from_fov(1280, 720, 45.0)
    plain = background(big)
    images = []
    for i in range(12):
        image = plain.copy()
        draw_marker(image, big, i, 0.2, facing_pose(0.1 * (i % 5), 0.0, 1.5 + 0.1 * i), supersample=2)
        images.append(degrade(image, blur_sigma=0.7))
    probe.send(images[0], camera=big)   # the node knows the publisher from its first frame on
    spin_until(executor, lambda: len(probe.markers) == 1, TIMEOUT, 'first frame processed')
    for image in images[1:]:   # back to back: faster than the node takes them
        probe.send(image, camera=big)
    # every frame is accounted for: taken and processed, or replaced in DDS's depth-1 history (counted
    # from the gaps in the publisher's sequence numbers) or in the node's slot
    spin_until(executor, lambda: node.frames.received == 12 and not node.frames.pending
               and len(probe.markers) == node.frames.taken, TIMEOUT, 'all 12 frames accounted for')
    counts = node.frames.counts()
    assert counts['dropped'] >= 1
    assert counts['processed'] + counts['dropped'] == counts['received'] == 12
    # the newest frame is always processed: its marker (id 11) is in the last array
    assert [d.id for d in probe.markers[-1].detections] == [11]

    def reported():
        for array in probe.diagnostics:
            values = {kv.key: kv.value for kv in array.status[0].values}
            if values.get('frames_dropped') == str(counts['dropped']):
                return True
        return False
    spin_until(executor, reported, TIMEOUT, 'drops in diagnostics')


def test_frame_gate_runs_one_callback_at_a_time_and_only_while_open():
    gate, entity = FrameGate(), object()
    assert gate.can_execute(entity) and gate.beginning_execution(entity)
    assert not gate.can_execute(entity) and not gate.beginning_execution(entity)   # one at a time
    gate.ending_execution(entity)       # the executor found no message to take: still open
    assert gate.can_execute(entity)
    assert gate.beginning_execution(entity)
    gate.close()                        # the callback handed a frame on
    gate.ending_execution(entity)
    assert not gate.can_execute(entity) and not gate.beginning_execution(entity)
    gate.open()                         # the worker took it
    assert gate.can_execute(entity)


def test_frames_the_worker_cannot_take_yet_stay_in_dds_and_are_counted(rig):
    node, probe, executor = rig()
    release = threading.Event()
    started = threading.Event()
    original = node.process

    def slow_process(frame, image):   # the first frame keeps the worker busy until released
        started.set()
        release.wait(timeout=TIMEOUT)
        original(frame, image)
    node.process = slow_process
    image = scene([(5, facing_pose(0.0, 0.0, 2.0))])
    probe.send(image)
    spin_until(executor, started.is_set, TIMEOUT, 'worker busy')
    for _ in range(6):
        probe.send(image)
        spin_for(executor, 0.05)
    # one more frame was taken into the slot; the other five were left to DDS, not taken into Python
    assert node.frames.received == 2 and node.frames.pending
    assert not node._gate.is_open
    release.set()
    spin_until(executor, lambda: len(probe.markers) == node.frames.taken and not node.frames.pending
               and node.frames.received == 7, TIMEOUT, 'all 7 frames accounted for')
    counts = node.frames.counts()
    assert counts['processed'] == 3      # the first, the one in the slot, the newest from DDS
    assert counts['dropped'] == 4        # replaced in DDS's depth-1 history, counted from the sequence gap


def test_bad_parameters_are_refused(ros_context):
    with pytest.raises(ValueError, match='gate pairs'):
        ArucoDetectorNode(context=ros_context, parameter_overrides=[Parameter('gate_pairs', value=[1, 2, 3])])
    with pytest.raises(ValueError, match='dictionary'):
        ArucoDetectorNode(context=ros_context, parameter_overrides=[Parameter('dictionary', value='DICT_X')])


def test_annotated_image_only_when_enabled(rig):
    node, probe, executor = rig(publish_annotated=True)
    annotated = []
    probe.node.create_subscription(Image, 'markers/annotated', annotated.append, image_qos())
    spin_until(executor, lambda: probe.node.count_publishers('markers/annotated') == 1, TIMEOUT, 'annotated pub')
    send_and_wait(node, probe, executor, scene([(8, facing_pose(0.0, 0.0, 2.0))]), 1)
    spin_until(executor, lambda: annotated, TIMEOUT, 'annotated image')
    assert (annotated[0].width, annotated[0].height, annotated[0].encoding) == (640, 480, 'rgb8')
    assert np.frombuffer(annotated[0].data, np.uint8).size == 640 * 480 * 3


def test_gate_pairs_come_from_the_parameter_and_the_mission(ros_context):
    node = ArucoDetectorNode(context=ros_context, parameter_overrides=[
        Parameter('gate_pairs', value=[7, 8]), Parameter('mission', value='urc_demo')])
    try:
        assert node.pairs == [(7, 8), (3, 4)]
    finally:
        node.destroy_node()
