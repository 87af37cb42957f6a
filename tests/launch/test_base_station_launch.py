"""launch_testing test of launch/base_station.launch.py: the web_bridge serves the base-station page on
the port given as web_port (HTTP GET), and every process exits with 0 when launch shuts down."""
import socket
import time
import unittest

import pytest

pytest.importorskip('launch_testing', reason='no launch_testing: no ROS 2 distro sourced and the tools '
                    'overlay is not built (make setup: scripts/build_tools.sh)')

import httpx
import launch_testing.actions
import launch_testing.asserts
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource

from launch import LaunchDescription
from rover_stack.common.share_files import package_share_dir

SERVE_TIMEOUT = 90.0   # s, the bridge imports FastAPI and uvicorn on a loaded machine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


PORT = _free_port()


@pytest.mark.launch_test
def generate_test_description():
    station = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(package_share_dir() / 'launch' / 'base_station.launch.py')),
        launch_arguments={'web_port': str(PORT)}.items())
    return LaunchDescription([station, launch_testing.actions.ReadyToTest()])


class TestPage(unittest.TestCase):

    def test_the_page_is_served_on_web_port(self):
        deadline = time.monotonic() + SERVE_TIMEOUT
        while True:
            try:
                response = httpx.get(f'http://127.0.0.1:{PORT}/', timeout=5.0)
                break
            except httpx.TransportError:
                self.assertLess(time.monotonic(), deadline, f'nothing served on port {PORT}')
                time.sleep(0.5)
        self.assertEqual(response.status_code, 200)
        self.assertIn('text/html', response.headers['content-type'])
        self.assertIn('<html', response.text.lower())


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_every_process_exited_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
