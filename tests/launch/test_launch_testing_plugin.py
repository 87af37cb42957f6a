"""Where launch_testing is installed, its pytest plugin loads in the pinned pytest: pytest 9 rejects the
plugin's hookimpl (argument 'path' not in the pytest_pycollect_makemodule hookspec) and then every
pytest run, not only the launch tier, dies at start-up (requirements/python.in pins 8.4.2)."""
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip('launch_testing', reason='no launch_testing: no ROS 2 distro sourced and the tools '
                    'overlay is not built (make setup: scripts/build_tools.sh)')

HERE = Path(__file__).parent


def test_the_plugin_loads_and_collects_a_launch_test():
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '--collect-only', '-q', '-p', 'no:cacheprovider',
         str(HERE / 'test_sim_launch.py')],
        capture_output=True, text=True, timeout=120, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert 'test_sim_launch.py::test_sim_launch' in output, output


def test_the_plugin_is_registered_in_this_run(request):
    assert request.config.pluginmanager.hasplugin('launch_testing'), 'launch_testing plugin not loaded'
