"""The hardware-interface contract (config/hardware_interface.yaml): its model, value checks and checker.

``model`` and ``checks`` are pure Python; ``checker`` subscribes to a running backend with rclpy.
"""
