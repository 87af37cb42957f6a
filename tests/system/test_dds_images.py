"""640x480 camera frames between two processes travel through shared memory and all arrive.

The loopback profile once pinned user data to UDP on 127.0.0.1 (a ``defaultUnicastLocatorList``): the
shared-memory transport was loaded but never announced for data, so every 921,600-byte frame went out
in UDP fragments. Measured with a publisher at 100 Hz: 57 of 501 frames arrived (the rest replaced
while their fragments were in flight), 19 ms of receiver CPU per frame; through shared memory every
frame arrives (501 of 501). This test holds the delivery, and checks that a subscriber with
``keep_large_buffers_in_heap`` (called by every node's ``run_nodes``) reuses its frame buffers. With
glibc's default thresholds they were mapped afresh in a run here (~650 page faults and 2.6 ms of CPU per
frame) but not in another (that depends on the allocation history), so only the kept case is asserted.
"""
import platform
import subprocess
import sys

import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import Image

from rover_stack.common.qos import image_qos
from rover_stack.perception.image_cdr import decode_image
from rover_stack.testing.waiting import spin_for, spin_until, stop_process

FRAMES = 200
RATE = 100.0   # Hz
PUBLISHER_SCRIPT = """
import sys, time
import numpy as np, rclpy
from sensor_msgs.msg import Image
from rover_stack.common.qos import image_qos
from rover_stack.perception.image_cdr import encode_image
rclpy.init()
node = rclpy.create_node('frame_source')
publisher = node.create_publisher(Image, 'camera/image_raw', image_qos())
pixels = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
deadline = time.monotonic() + 30.0
while publisher.get_subscription_count() < int(sys.argv[1]) and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(1.0)   # the subscriber's side of the match
start = time.monotonic()
frames, rate = int(sys.argv[2]), float(sys.argv[3])
for i in range(frames):
    while time.monotonic() < start + i / rate:
        time.sleep(0.001)
    publisher.publish(encode_image(i, 0, 'camera_optical_frame', pixels))
print('sent', flush=True)
time.sleep(2.0)
"""

SINK_SCRIPT = """
import resource, sys, time
import rclpy
from sensor_msgs.msg import Image
from rover_stack.common.heap import keep_large_buffers_in_heap
from rover_stack.common.qos import image_qos
from rover_stack.perception.image_cdr import decode_image
if sys.argv[1] == 'kept':
    keep_large_buffers_in_heap()
rclpy.init()
node = rclpy.create_node('frame_sink_' + sys.argv[1])
faults = []
def on_frame(raw):
    decode_image(raw)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)
node.create_subscription(Image, 'camera/image_raw', on_frame, image_qos(), raw=True)
deadline = time.monotonic() + 60.0
while time.monotonic() < deadline and len(faults) < int(sys.argv[2]):
    rclpy.spin_once(node, timeout_sec=0.1)
settled = faults[20:]   # the first frames pay for the heap growing
print(len(faults), (settled[-1] - settled[0]) / max(1, len(settled) - 1) if len(settled) > 1 else -1, flush=True)
"""


def _start_source(sinks: int, frames: int = FRAMES, rate: float = RATE) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, '-c', PUBLISHER_SCRIPT, str(sinks), str(frames), str(rate)],
                            stdout=subprocess.PIPE, text=True)


def test_640x480_frames_at_100_hz_all_arrive(ros_context):
    node = rclpy.create_node('frame_sink', context=ros_context)
    received = []
    node.create_subscription(Image, 'camera/image_raw', lambda raw: received.append(decode_image(raw)),
                             image_qos(), raw=True)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    source = _start_source(sinks=1)
    try:
        spin_until(executor, lambda: len(received) >= FRAMES or source.poll() is not None, timeout=60.0,
                   what=f'{FRAMES} frames')
        spin_for(executor, 0.5)   # frames still in flight when the source exits
        assert received, 'no frame arrived'
        assert all(frame.width == 640 and frame.height == 480 and len(frame.data) == 640 * 480 * 3
                   for frame in received)
        stamps = [frame.sec for frame in received]
        assert stamps == sorted(stamps)
        # Through shared memory all 200 arrive on an idle machine (172 on a loaded CI machine: with keep
        # last 1 a frame is replaced while this subscriber waits for a core); over fragmented UDP about one
        # in nine did. The bound holds the transport, not the machine's load.
        assert len(received) >= 0.6 * FRAMES, f'{len(received)} of {FRAMES} frames arrived'
    finally:
        stop_process(source)
        executor.shutdown()
        node.destroy_node()


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='mallopt thresholds are glibc settings')
def test_a_subscriber_with_the_node_heap_thresholds_reuses_its_frame_buffers():
    frames = 120
    sink = subprocess.Popen([sys.executable, '-c', SINK_SCRIPT, 'kept', str(frames)], stdout=subprocess.PIPE,
                            text=True)
    source = _start_source(sinks=1, frames=frames, rate=50.0)
    try:
        out, _ = sink.communicate(timeout=90)
        received, faults_per_frame = int(out.split()[0]), float(out.split()[1])
    finally:
        stop_process(source)
        if sink.poll() is None:
            sink.kill()
            sink.wait(timeout=5)
    assert received > 40, out
    # a 921,600-byte frame is 225 pages: mapping its buffers afresh would fault them all in again
    assert faults_per_frame < 25, out
