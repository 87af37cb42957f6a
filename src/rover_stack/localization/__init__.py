"""Localization: a planar EKF fusing wheel odometry, IMU, GNSS and known markers (ekf.py, pure numpy),
the datum and lat/lon conversions (datum.py), REP-105 map -> odom (map_odom.py), and the
``ekf_localization`` node (ekf_localization_node.py). See docs/localization.md."""
