"""Write and read ROS 2 MCAP files of CDR messages (the layout of ``ros2 bag record -s mcap``).

Needs no rclpy: messages go in and come out serialized (``bytes``); the 'ros2msg' schemas come from
the installed .msg files (msgdefs.py). ``decoded`` uses mcap_ros2 to decode with the schema stored in
the file, so a recording can be read without the message packages installed.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mcap.exceptions import McapError
from mcap.reader import make_reader
from mcap.writer import CompressionType, Writer
from mcap_ros2.decoder import DecoderFactory

from rover_stack.reporting.msgdefs import schema_text


class RecordingError(ValueError):
    """The file is missing, not MCAP, or lacks something the caller needs."""


class McapWriter:
    """Channels by topic; ``add(topic, data, log_time_ns)`` appends one serialized message."""

    def __init__(self, path: str | Path, library: str = 'rover_stack.reporting'):
        self._stream = open(path, 'wb')   # closed in close()
        self._writer = Writer(self._stream, compression=CompressionType.ZSTD)
        self._writer.start(profile='ros2', library=library)
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, int] = {}

    def channel(self, topic: str, type_name: str) -> None:
        """Declare ``topic`` (fully qualified, e.g. '/odom') carrying ``type_name`` ('pkg/msg/Name')."""
        if topic in self._channels:
            return
        if type_name not in self._schemas:
            self._schemas[type_name] = self._writer.register_schema(
                name=type_name, encoding='ros2msg', data=schema_text(type_name).encode())
        self._channels[topic] = self._writer.register_channel(
            topic=topic, message_encoding='cdr', schema_id=self._schemas[type_name])

    def add(self, topic: str, data: bytes, log_time_ns: int, publish_time_ns: int | None = None) -> None:
        self._writer.add_message(channel_id=self._channels[topic], log_time=log_time_ns, data=data,
                                 publish_time=log_time_ns if publish_time_ns is None else publish_time_ns)

    @property
    def closed(self) -> bool:
        return self._stream.closed

    def close(self) -> None:
        if self._stream.closed:
            return
        self._writer.finish()
        self._stream.close()


@dataclass(frozen=True)
class RawMessage:
    topic: str          # as recorded (fully qualified)
    type_name: str      # 'pkg/msg/Name'
    log_time_ns: int
    data: bytes         # CDR


def _open(path: str | Path):
    path = Path(path)
    if not path.is_file():
        raise RecordingError(f'{path}: no such file')
    return open(path, 'rb')


def topics(path: str | Path) -> dict[str, tuple[str, int]]:
    """Recorded topic -> (type, message count)."""
    with _open(path) as stream:
        try:
            summary = make_reader(stream).get_summary()
        except (McapError, ValueError, EOFError) as error:
            raise RecordingError(f'{path}: not a readable MCAP file ({error})') from None
    if summary is None:
        raise RecordingError(f'{path}: MCAP file without a summary (not closed properly?)')
    counts = summary.statistics.channel_message_counts if summary.statistics else {}
    return {ch.topic: (summary.schemas[ch.schema_id].name, counts.get(cid, 0))
            for cid, ch in summary.channels.items()}


def raw_messages(path: str | Path, only: Iterable[str] | None = None) -> Iterator[RawMessage]:
    """Every message (of the topics ``only``, if given) in log-time order."""
    with _open(path) as stream:
        try:
            reader = make_reader(stream)
            for schema, channel, message in reader.iter_messages(topics=list(only) if only else None):
                yield RawMessage(channel.topic, schema.name if schema else '', message.log_time, message.data)
        except (McapError, ValueError, EOFError) as error:
            raise RecordingError(f'{path}: {error}') from None


def decoded(path: str | Path, only: Iterable[str] | None = None) -> Iterator[tuple[str, int, object]]:
    """(topic, log time ns, decoded message) in log-time order, decoded with the stored schemas."""
    with _open(path) as stream:
        try:
            reader = make_reader(stream, decoder_factories=[DecoderFactory()])
            for _schema, channel, message, msg in reader.iter_decoded_messages(
                    topics=list(only) if only else None):
                yield channel.topic, message.log_time, msg
        except (McapError, ValueError, EOFError) as error:
            raise RecordingError(f'{path}: {error}') from None
