"""The Nav2 backend fails clearly when nav2_msgs is missing (as in this workspace)."""
import importlib.util

import pytest

from rover_stack.navigation.nav2_backend import Nav2UnavailableError, nav2_action_type


@pytest.mark.skipif(importlib.util.find_spec('nav2_msgs') is not None, reason='Nav2 is installed')
def test_missing_nav2_msgs_is_a_clear_error():
    with pytest.raises(Nav2UnavailableError, match="backend 'nav2' needs nav2_msgs"):
        nav2_action_type()
