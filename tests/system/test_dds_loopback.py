"""A running ROS 2 node of this stack binds DDS sockets on loopback only (checked in /proc)."""
import os
import subprocess
import sys
import time
from pathlib import Path

from rover_stack.testing.waiting import stop_process

NODE_SCRIPT = """
import rclpy, sys
from std_msgs.msg import String
rclpy.init()
node = rclpy.create_node('dds_scope_probe')
node.create_publisher(String, 'probe', 10)
print('ready', flush=True)
try:
    rclpy.spin(node)
except KeyboardInterrupt:
    pass
"""


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f'/proc/{pid}/fd').iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith('socket:['):
            inodes.add(target[8:-1])
    return inodes


def _udp_local_addresses(pid: int) -> list[str]:
    inodes = _socket_inodes(pid)
    addresses = []
    for table in ('udp', 'udp6'):
        for line in Path(f'/proc/{pid}/net/{table}').read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                addresses.append(fields[1].split(':')[0])
    return addresses


def test_node_binds_udp_on_loopback_only():
    proc = subprocess.Popen([sys.executable, '-c', NODE_SCRIPT], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        line = proc.stdout.readline()
        assert line.strip() == 'ready', 'probe node did not start'
        addresses = []
        while time.monotonic() < deadline:   # Fast DDS opens its sockets while the node starts
            addresses = _udp_local_addresses(proc.pid)
            if addresses:
                break
            time.sleep(0.1)
        assert addresses, 'the node opened no UDP socket'
        # 0100007F is 127.0.0.1 in /proc's little-endian hex; 00000000 would be 0.0.0.0 (every interface)
        assert set(addresses) == {'0100007F'}, addresses
    finally:
        stop_process(proc)
