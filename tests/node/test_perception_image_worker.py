"""The image worker survives a frame whose processing raises (issue #18 item 8): the error is logged,
counted (``process_errors`` and an ERROR diagnostics status) and the next frames are processed."""
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import CameraInfo, Image

from rover_stack.common.qos import command_qos, image_qos
from rover_stack.perception.camera_driver_node import camera_info_msg
from rover_stack.perception.image_pipeline import ImageProcessingNode, rgb_to_image
from rover_stack.perception.pose import CameraModel
from rover_stack.testing.waiting import spin_until

CAMERA = CameraModel.from_fov(64, 48, 45.0)
TIMEOUT = 20.0


class Failing(ImageProcessingNode):
    """Raises on the first ``fail`` frames, then records the frames it gets."""

    def __init__(self, fail: int, **kwargs):
        super().__init__('failing_image_node', 'base_link', diagnostics_period=0.2, **kwargs)
        self.fail, self.seen = fail, 0
        self.start_worker()

    def process(self, frame, image):
        self.seen += 1
        if self.seen <= self.fail:
            raise RuntimeError(f'synthetic failure {self.seen}')


def test_worker_survives_a_raising_frame_and_reports_it(ros_context):
    node = Failing(fail=2, context=ros_context)
    probe = rclpy.create_node('image_probe', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(probe)
    info_pub = probe.create_publisher(CameraInfo, 'camera/camera_info', image_qos())
    image_pub = probe.create_publisher(Image, 'camera/image_raw', image_qos())
    diagnostics: list[DiagnosticArray] = []
    probe.create_subscription(DiagnosticArray, 'diagnostics', diagnostics.append, command_qos())
    image = np.zeros((48, 64, 3), np.uint8)

    def send():
        stamp = probe.get_clock().now().to_msg()
        info_pub.publish(camera_info_msg(CAMERA, stamp, 'camera_optical_frame'))
        image_pub.publish(rgb_to_image(image, stamp, 'camera_optical_frame'))
        return node.seen >= 4

    try:
        spin_until(executor, lambda: image_pub.get_subscription_count() > 0, TIMEOUT, 'image subscription')
        spin_until(executor, send, TIMEOUT, 'frames processed after two failures', step=0.05)
        assert node._worker.is_alive(), 'the image worker thread died'
        assert node.process_errors == 2
        assert node.frames.counts()['processed'] >= 4

        def error_reported():
            return any(s.level == DiagnosticStatus.ERROR and 'synthetic failure' in s.message
                       and {v.key: v.value for v in s.values}.get('process_errors') == '2'
                       for array in diagnostics for s in array.status)
        spin_until(executor, error_reported, TIMEOUT, 'an ERROR diagnostics status naming the failure')
    finally:
        executor.shutdown(timeout_sec=1.0)
        node.destroy_node()
        probe.destroy_node()
