"""Perception: ArUco markers and gates, URC ground objects, a local obstacle grid, the camera driver.

Pure modules (no rclpy): pose.py (camera model, marker pose), aruco.py (detection), tracking.py
(N-of-M confirmation), gates.py (gate geometry), objects.py (ground-object detectors), occupancy.py
(rolling grid), latest_frame.py (latest-only frame slot), synthetic.py (test images). Nodes:
aruco_detector_node.py, object_detector_node.py, obstacle_grid_node.py, camera_driver_node.py.
"""
