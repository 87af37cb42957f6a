"""Navigation: costmap, global planner, regulated pure pursuit, goal checking, stuck recovery (pure
Python, no rclpy) and the ``navigator`` node serving ``navigate_to_goal`` (docs/navigation.md)."""
