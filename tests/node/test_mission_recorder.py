"""RunRecorder writes a ROS 2 MCAP that mcap_ros2 and rosbags read back, and keeps the report data."""
from __future__ import annotations

from pathlib import Path

import rclpy
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from rosbags.highlevel import AnyReader
from std_msgs.msg import String

from rover_interfaces.msg import MissionStatus
from rover_stack.common.qos import command_qos, latched_qos
from rover_stack.reporting.recorder import RunRecorder
from rover_stack.testing.waiting import spin_until


def test_recording_round_trip(ros_context, tmp_path):
    recorder_node = rclpy.create_node('recorder', context=ros_context)
    talker = rclpy.create_node('talker', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(recorder_node)
    executor.add_node(talker)
    statuses = []
    recorder = RunRecorder(recorder_node, tmp_path / 'run.mcap', on_status=statuses.append)
    truth = talker.create_publisher(Odometry, 'sim/ground_truth', command_qos())
    collisions = talker.create_publisher(String, 'sim/collisions', command_qos())
    status = talker.create_publisher(MissionStatus, 'mission/status', latched_qos())
    status.publish(MissionStatus(mission_name='m', state=MissionStatus.RUNNING, leg_state='navigate'))
    try:
        def publish_until_recorded():
            odom = Odometry()
            odom.header.stamp.sec = len(recorder.truth) + 1
            odom.pose.pose.position.x = float(len(recorder.truth))
            truth.publish(odom)
            return len(recorder.truth) >= 5
        spin_until(executor, lambda: recorder.messages and publish_until_recorded(), 10.0, 'ground truth recorded')
        collisions.publish(String(data='{"kind": "rock", "index": 2}'))
        spin_until(executor, lambda: recorder.collisions and statuses, 10.0, 'collision and status recorded')
    finally:
        recorder.close()
        executor.shutdown()
        talker.destroy_node()
        recorder_node.destroy_node()
    assert recorder.collisions == [{'kind': 'rock', 'index': 2}] and statuses[0].mission_name == 'm'

    with open(tmp_path / 'run.mcap', 'rb') as stream:
        decoded = [(channel.topic, msg) for _s, channel, _m, msg in
                   make_reader(stream, decoder_factories=[DecoderFactory()]).iter_decoded_messages()]
    odoms = [msg for topic, msg in decoded if topic == '/sim/ground_truth']
    assert len(odoms) >= 5 and odoms[1].pose.pose.position.x == 1.0
    assert {topic for topic, _ in decoded} >= {'/sim/ground_truth', '/sim/collisions', '/mission/status'}

    with AnyReader([Path(tmp_path / 'run.mcap')]) as reader:
        topics = {c.topic: c.msgtype for c in reader.connections}
        count = sum(1 for conn, _t, raw in reader.messages() if reader.deserialize(raw, conn.msgtype))
    assert topics['/sim/ground_truth'] == 'nav_msgs/msg/Odometry' and count == len(decoded)
