"""sensor_msgs/Image in its serialized (CDR) form, without building a Python message.

rclpy turns a 640x480 rgb8 Image into a Python message field by field: about 1 ms to deserialize and
2 ms to serialize on this machine, under the GIL, for every frame - also for the frames a detector then
drops. A subscription created with ``raw=True`` hands over the serialized bytes instead, and
``Publisher.publish`` accepts bytes: these two functions read and write that form directly, the pixels
as a zero-copy view.

Layout (OMG CDR, XCDR1, as rmw_fastrtps and rmw_cyclonedds send it): a 4-byte encapsulation header
(0x00 0x01 = little-endian, 0x00 0x00 = big-endian, then 2 option bytes), then, each primitive aligned
to its size counted from after the encapsulation header: header.stamp.sec (int32),
header.stamp.nanosec (uint32), header.frame_id (string), height, width (uint32), encoding (string),
is_bigendian (uint8), step (uint32), data (uint32 length + bytes). A string is a uint32 length that
counts its terminating NUL, then the bytes and the NUL.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from rover_stack.common.stamps import stamp_seconds

_ENCAPSULATION = {b'\x00\x01': '<', b'\x00\x00': '>'}   # CDR_LE, CDR_BE
_MAX_STRING = 4096                                      # bytes; frame ids and encodings are short


@dataclass(frozen=True)
class ImageView:
    """The fields of a serialized Image; ``data`` is a read-only view into the serialized buffer."""
    sec: int
    nanosec: int
    frame_id: str
    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: memoryview

    @property
    def stamp(self) -> float:
        """Header stamp in seconds."""
        return stamp_seconds(self)


class _Reader:
    def __init__(self, buffer, order: str):
        self.buffer, self.order, self.offset = buffer, order, 4

    def _align(self, size: int) -> None:
        self.offset += (-(self.offset - 4)) % size

    def take(self, size: int, what: str) -> memoryview:
        end = self.offset + size
        if size < 0 or end > len(self.buffer):
            raise ValueError(f'serialized Image truncated in {what} '
                             f'(needs {end} bytes, has {len(self.buffer)})')
        view = self.buffer[self.offset:end]
        self.offset = end
        return view

    def uint32(self, what: str, signed: bool = False) -> int:
        self._align(4)
        return struct.unpack(self.order + ('i' if signed else 'I'), self.take(4, what))[0]

    def uint8(self, what: str) -> int:
        return self.take(1, what)[0]

    def string(self, what: str) -> str:
        length = self.uint32(what)
        if not 1 <= length <= _MAX_STRING:
            raise ValueError(f'serialized Image: {what} has length {length} (1..{_MAX_STRING} with its NUL)')
        raw = bytes(self.take(length, what))
        if raw[-1] != 0:
            raise ValueError(f'serialized Image: {what} is not NUL-terminated')
        try:
            return raw[:-1].split(b'\x00', 1)[0].decode('utf-8')   # a C string, as rclpy reads it
        except UnicodeDecodeError as error:
            raise ValueError(f'serialized Image: {what} is not UTF-8: {error}') from None


def decode_image(buffer: bytes | memoryview) -> ImageView:
    """The fields of a serialized sensor_msgs/Image; ValueError when the bytes are not one."""
    view = memoryview(buffer).cast('B')
    order = _ENCAPSULATION.get(bytes(view[:2]))
    if len(view) < 4 or order is None:
        raise ValueError(f'not a CDR-encapsulated message (header {bytes(view[:4]).hex()})')
    r = _Reader(view, order)
    sec = r.uint32('header.stamp.sec', signed=True)
    nanosec = r.uint32('header.stamp.nanosec')
    frame_id = r.string('header.frame_id')
    height, width = r.uint32('height'), r.uint32('width')
    encoding = r.string('encoding')
    is_bigendian = r.uint8('is_bigendian')
    step = r.uint32('step')
    size = r.uint32('data length')
    data = r.take(size, 'data')
    return ImageView(sec, nanosec, frame_id, height, width, encoding, is_bigendian, step, data.toreadonly())


def _append_string(body: bytearray, value: str) -> None:
    """Append a CDR string (4-aligned length, bytes, NUL) to ``body``."""
    if '\x00' in value:
        raise ValueError(f'a ROS string cannot contain NUL: {value!r}')
    raw = value.encode('utf-8') + b'\x00'
    _align(body)
    body += struct.pack('<I', len(raw)) + raw


def _align(body: bytearray) -> None:
    """Pad ``body`` (counted from after the encapsulation header) to a multiple of 4 bytes."""
    body += b'\x00' * (-len(body) % 4)


def encode_image(sec: int, nanosec: int, frame_id: str, array: np.ndarray) -> bytes:
    """A serialized little-endian sensor_msgs/Image of an H x W x 3 (rgb8) or H x W (mono8) uint8 array:
    rclpy's serialize_message makes the same bytes except for padding, which it leaves uninitialized."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise ValueError(f'expected an H x W or H x W x 3 uint8 array, got {array.dtype} {array.shape}')
    height, width = array.shape[:2]
    mono = array.ndim == 2
    body = bytearray(struct.pack('<iI', sec, nanosec))
    _append_string(body, frame_id)
    _align(body)
    body += struct.pack('<II', height, width)
    _append_string(body, 'mono8' if mono else 'rgb8')
    body += b'\x00'                    # is_bigendian = 0
    _align(body)
    body += struct.pack('<II', width * (1 if mono else 3), array.nbytes)
    return b'\x00\x01\x00\x00' + bytes(body) + array.tobytes()
