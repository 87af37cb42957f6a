"""Bring up profile 'gazebo' of config/node_sets.yaml.

List its arguments with: ros2 launch rover_stack gazebo.launch.py -s
"""
from rover_stack.bringup.launch_builder import generate_launch_description_for


def generate_launch_description():
    return generate_launch_description_for('gazebo')
