"""Transforms without tf2_ros: rigid transforms, a frame buffer, URDF fixed joints, and the ROS
listener/broadcasters. transform.py, buffer.py and urdf.py never import ROS."""
