"""A probe for launch_testing tests of the sim profile: one rclpy node following /clock (the profile's
use_sim_time default), its executor, and bounded waits on facts."""
from __future__ import annotations

import time
import unittest

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter


class SimTimeProbeCase(unittest.TestCase):
    """``self.node`` (named ``probe_name``, sim time) and ``self.executor`` for each test; subclasses add
    their subscriptions and publishers in ``setUp`` after calling ``super().setUp()``."""

    probe_name = 'launch_probe'

    @classmethod
    def setUpClass(cls):
        rclpy.init()

    @classmethod
    def tearDownClass(cls):
        rclpy.shutdown()

    def setUp(self):
        self.node = rclpy.create_node(self.probe_name,
                                      parameter_overrides=[Parameter('use_sim_time', value=True)])
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)

    def tearDown(self):
        self.executor.shutdown()
        self.node.destroy_node()

    def spin_until(self, condition, timeout: float, what: str) -> None:
        """Spin until ``condition()`` holds; fails after ``timeout`` s (wall) naming ``what``."""
        deadline = time.monotonic() + timeout
        while not condition():
            self.assertLess(time.monotonic(), deadline, f'timed out waiting for {what}')
            self.executor.spin_once(timeout_sec=0.05)
