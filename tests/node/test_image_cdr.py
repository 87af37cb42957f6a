"""Serialized sensor_msgs/Image read and written without rclpy messages: the same message as rclpy's own
(de)serialization, and malformed bytes refused with a clear error."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Image

from rover_stack.perception.image_cdr import decode_image, encode_image
from rover_stack.perception.image_pipeline import image_to_rgb


def rclpy_image(array, sec, nanosec, frame_id, encoding=None) -> Image:
    msg = Image(height=array.shape[0], width=array.shape[1], is_bigendian=0)
    msg.encoding = encoding or ('mono8' if array.ndim == 2 else 'rgb8')
    msg.step = array.shape[1] * (1 if array.ndim == 2 else 3)
    msg.data = array.tobytes()
    msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id = sec, nanosec, frame_id
    return msg


@settings(max_examples=60, deadline=None)
@given(height=st.integers(1, 9), width=st.integers(1, 9), mono=st.booleans(),
       sec=st.integers(-2**31, 2**31 - 1), nanosec=st.integers(0, 999_999_999),
       frame_id=st.text(st.characters(blacklist_characters='\x00'), max_size=12))
def test_encode_matches_rclpy_and_decode_reads_rclpy(height, width, mono, sec, nanosec, frame_id):
    rng = np.random.default_rng(height * 31 + width)
    shape = (height, width) if mono else (height, width, 3)
    array = rng.integers(0, 256, shape, dtype=np.uint8)
    message = rclpy_image(array, sec, nanosec, frame_id)
    expected = serialize_message(message)
    encoded = encode_image(sec, nanosec, frame_id, array)
    assert len(encoded) == len(expected)
    assert deserialize_message(encoded, Image) == message
    view = decode_image(expected)
    assert (view.sec, view.nanosec, view.frame_id) == (sec, nanosec, frame_id)
    assert (view.height, view.width, view.encoding, view.step) == (
        height, width, 'mono8' if mono else 'rgb8', width * (1 if mono else 3))
    np.testing.assert_array_equal(image_to_rgb(view), array)
    back = deserialize_message(expected, Image)
    assert bytes(back.data) == bytes(view.data)


def test_a_camera_frame_round_trips_without_copying_the_pixels():
    array = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    data = encode_image(12, 34, 'camera_optical_frame', array)
    view = decode_image(data)
    assert view.stamp == pytest.approx(12.000000034)
    assert view.data.obj is data or view.data.nbytes == array.nbytes   # a view into the buffer
    assert view.data.readonly
    np.testing.assert_array_equal(image_to_rgb(view), array)


def test_big_endian_cdr_is_read():
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    little = encode_image(7, 8, 'cam', array)
    big = bytearray(b'\x00\x00\x00\x00')
    big += (7).to_bytes(4, 'big') + (8).to_bytes(4, 'big') + (4).to_bytes(4, 'big') + b'cam\x00'
    big += (2).to_bytes(4, 'big') + (3).to_bytes(4, 'big') + (6).to_bytes(4, 'big') + b'mono8\x00'
    big += b'\x00' + b'\x00' + (3).to_bytes(4, 'big') + (6).to_bytes(4, 'big') + array.tobytes()
    a, b = decode_image(little), decode_image(bytes(big))
    assert (a.sec, a.nanosec, a.frame_id, a.height, a.width, a.encoding, a.step, bytes(a.data)) == \
        (b.sec, b.nanosec, b.frame_id, b.height, b.width, b.encoding, b.step, bytes(b.data))


@pytest.mark.parametrize(('mutate', 'match'), [
    (lambda d: d[:3], 'not a CDR'),
    (lambda d: b'\x07\x07' + d[2:], 'not a CDR'),
    (lambda d: d[:40], 'truncated'),
    (lambda d: d[:-1], 'truncated in data'),
    (lambda d: d[:12] + (10**6).to_bytes(4, 'little') + d[16:], 'frame_id has length'),
    (lambda d: d[:12] + (0).to_bytes(4, 'little') + d[16:], 'frame_id has length'),
    (lambda d: d[:19] + b'X' + d[20:], 'NUL-terminated'),
    (lambda d: d[:16] + b'\xff\xfe\xfd' + d[19:], 'UTF-8'),
])
def test_malformed_bytes_are_refused(mutate, match):
    data = encode_image(1, 2, 'cam', np.zeros((2, 2, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match=match):
        decode_image(mutate(data))


def test_encode_refuses_what_is_not_an_8_bit_image():
    for array in (np.zeros((2, 2), np.float32), np.zeros((2, 2, 4), np.uint8), np.zeros(4, np.uint8)):
        with pytest.raises(ValueError):
            encode_image(0, 0, 'cam', array)
    with pytest.raises(ValueError, match='NUL'):
        encode_image(0, 0, 'cam\x00era', np.zeros((2, 2), np.uint8))
