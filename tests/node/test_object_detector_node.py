"""object_detector in-process: a synthetic mallet and bottle -> KIND_OBJECT detections in base_link."""
import math

import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, Image

from rover_interfaces.msg import MarkerDetection, MarkerDetectionArray
from rover_stack.common.qos import command_qos, image_qos
from rover_stack.perception.camera_driver_node import camera_info_msg
from rover_stack.perception.image_pipeline import rgb_to_image
from rover_stack.perception.object_detector_node import ObjectDetectorNode
from rover_stack.perception.pose import CameraModel
from rover_stack.perception.synthetic import background, degrade, draw_upright_object
from rover_stack.testing.waiting import spin_until
from rover_stack.tf.listener import StaticTransformBroadcaster
from rover_stack.tf.transform import Transform

CAMERA = CameraModel.from_fov(640, 480, 45.0)
OPTICAL = Transform.from_xyz_rpy((0.45, 0.0, 0.45), (-math.pi / 2, 0.0, -math.pi / 2))
TIMEOUT = 10.0


@pytest.fixture
def rig(ros_context):
    created = []

    def make(**params):
        node = ObjectDetectorNode(context=ros_context,
                                  parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
        probe = rclpy.create_node('object_probe', context=ros_context)
        StaticTransformBroadcaster(probe).send_transform('base_link', 'camera_optical_frame', 0, OPTICAL)
        image_pub = probe.create_publisher(Image, 'camera/image_raw', image_qos())
        info_pub = probe.create_publisher(CameraInfo, 'camera/camera_info', image_qos())
        arrays = []
        probe.create_subscription(MarkerDetectionArray, 'objects', arrays.append, command_qos())
        executor = SingleThreadedExecutor(context=ros_context)
        executor.add_node(node)
        executor.add_node(probe)
        created.extend([node, probe, executor])
        spin_until(executor, lambda: image_pub.get_subscription_count() and info_pub.get_subscription_count()
                   and node.tf_buffer.can_transform('base_link', 'camera_optical_frame'), TIMEOUT, 'wiring')

        def send(image):
            stamp = probe.get_clock().now().to_msg()
            info_pub.publish(camera_info_msg(CAMERA, stamp, 'camera_optical_frame'))
            image_pub.publish(rgb_to_image(image, stamp, 'camera_optical_frame'))

        info_pub.publish(camera_info_msg(CAMERA, probe.get_clock().now().to_msg(), 'camera_optical_frame'))
        spin_until(executor, lambda: node.camera is not None, TIMEOUT, 'camera_info')
        return node, send, arrays, executor

    yield make
    for item in reversed(created):
        if isinstance(item, SingleThreadedExecutor):
            item.shutdown(timeout_sec=1.0)
        else:
            item.destroy_node()


def scene():
    image = background(CAMERA, seed=4)
    draw_upright_object(image, CAMERA, (-0.6, 0.4, 3.0), 0.12, 0.09, (255, 115, 0))    # mallet head
    draw_upright_object(image, CAMERA, (0.5, 0.3, 2.0), 0.07, 0.22, (51, 128, 230))    # bottle
    return degrade(image, noise_sigma=2.0, blur_sigma=0.6, seed=4)


def test_objects_are_published_with_range_and_bearing_in_base_link(rig):
    _, send, arrays, executor = rig()
    send(scene())
    spin_until(executor, lambda: arrays, TIMEOUT, 'objects')
    by_label = {d.label: d for d in arrays[0].detections}
    assert sorted(by_label) == ['bottle', 'mallet']
    for label, optical_xyz in (('mallet', (-0.6, 0.4, 3.0)), ('bottle', (0.5, 0.3, 2.0))):
        det = by_label[label]
        assert det.kind == MarkerDetection.KIND_OBJECT and det.id == -1 and det.base_frame == 'base_link'
        truth = OPTICAL.apply(optical_xyz)
        assert det.range == pytest.approx(math.hypot(truth[0], truth[1]), rel=0.1)
        assert det.bearing == pytest.approx(math.atan2(truth[1], truth[0]), abs=0.03)
        assert math.isnan(det.reprojection_error) and not det.confirmed
    assert by_label['mallet'].bearing > 0 > by_label['bottle'].bearing     # left of the rover is +y


def test_a_disabled_class_is_not_reported(rig):
    _, send, arrays, executor = rig(**{'bottle.enabled': False})
    send(scene())
    spin_until(executor, lambda: arrays, TIMEOUT, 'objects')
    assert [d.label for d in arrays[0].detections] == ['mallet']


def test_bad_class_parameters_are_refused(ros_context):
    with pytest.raises(ValueError, match='mallet'):
        ObjectDetectorNode(context=ros_context, parameter_overrides=[Parameter('mallet.min_aspect', value=5.0)])


def test_max_rate_skips_images_by_their_stamps(rig):
    node, _, arrays, executor = rig(max_rate=5.0)
    probe = next(n for n in executor.get_nodes() if n.get_name() == 'object_probe')
    publisher = next(p for p in probe.publishers if p.topic_name.endswith('camera/image_raw'))
    image = scene()
    for k in range(9):                                      # a 15 Hz camera: stamps 1/15 s apart
        stamp = rclpy.time.Time(seconds=100.0 + k / 15.0).to_msg()
        publisher.publish(rgb_to_image(image, stamp, 'camera_optical_frame'))
        spin_until(executor, lambda k=k: node.skipped['rate_limited'] + len(arrays) == k + 1, TIMEOUT,
                   f'image {k} processed or skipped')
    assert len(arrays) == 3 and node.skipped['rate_limited'] == 6     # 5 Hz: every third image


def test_objects_are_confirmed_after_n_of_m_frames(rig):
    _, send, arrays, executor = rig(confirm_hits=2, confirm_window=4)
    image, empty = scene(), background(CAMERA, seed=4)
    for k, frame in enumerate((image, empty, image, image)):
        send(frame)
        spin_until(executor, lambda k=k: len(arrays) == k + 1, TIMEOUT, f'result of frame {k}')
    confirmed = [{d.label: d.confirmed for d in a.detections} for a in arrays]
    assert confirmed[0] == {'mallet': False, 'bottle': False}       # one sighting
    assert confirmed[1] == {}
    assert confirmed[2] == {'mallet': True, 'bottle': True}         # two of the last four frames
    assert confirmed[3] == {'mallet': True, 'bottle': True}
