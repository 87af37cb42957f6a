"""Field-tunable parameters take effect at run time (``ros2 param set`` goes through the same
set_parameters path): validated by the declared ranges and by the core's own rules, applied at once, and
refused with a message otherwise; read-only ones are refused by rclpy (docs/drive.md "Tuning live")."""
import pytest
from rclpy.parameter import Parameter

from rover_stack.autonomy.executive import ExecutiveConfig
from rover_stack.autonomy.mission_executive_node import MissionExecutiveNode
from rover_stack.base_station.keyboard_teleop_node import KeyboardTeleopNode
from rover_stack.common.param_spec import declared
from rover_stack.demo.heartbeat import HeartbeatTalkerNode
from rover_stack.drive.drive_controller_node import DriveControllerNode
from rover_stack.localization.ekf_localization_node import EkfLocalizationNode
from rover_stack.navigation.navigator_node import NavigatorNode
from rover_stack.perception.aruco_detector_node import ArucoDetectorNode


def set_one(node, name, value):
    return node.set_parameters([Parameter(name, value=value)])[0]


def test_drive_limits_are_retuned_and_bad_values_refused(ros_context):
    node = DriveControllerNode(context=ros_context)
    try:
        assert set_one(node, 'linear_max_velocity', 0.3).successful
        assert node.core.config.linear.max_velocity == 0.3
        assert node.core._limiter.linear.max_velocity == 0.3      # what limits the next step
        assert set_one(node, 'angular_max_acceleration', 1.0).successful
        assert node.core.config.angular.max_acceleration == 1.0 and node.params.angular_max_acceleration == 1.0
        wrong_type = set_one(node, 'angular_max_acceleration', 2)      # rclpy: write 2.0 for a double
        assert not wrong_type.successful and 'Wrong parameter type' in wrong_type.reason
        above = set_one(node, 'linear_max_velocity', 2.5)            # above reject_linear_above (2.0)
        assert not above.successful and 'reject_linear_above' in above.reason
        assert node.core.config.linear.max_velocity == 0.3 and node.params.linear_max_velocity == 0.3
        out_of_range = set_one(node, 'linear_max_deceleration', 0.0)
        assert not out_of_range.successful
        read_only = set_one(node, 'rate', 10.0)
        assert not read_only.successful and 'read-only' in read_only.reason
        assert node.get_parameter('rate').value == 50.0
    finally:
        node.destroy_node()


def test_follower_speeds_and_lookahead_are_retuned(ros_context):
    node = NavigatorNode(context=ros_context)
    try:
        assert node.set_parameters([Parameter('max_speed', value=0.4), Parameter('min_lookahead', value=1.0),
                                    Parameter('max_lookahead', value=3.0)])[0].successful
        config = node._follower.config
        assert (config.max_speed, config.min_lookahead, config.max_lookahead) == (0.4, 1.0, 3.0)
        assert not set_one(node, 'max_speed', 50.0).successful      # above the declared 5 m/s
        assert not set_one(node, 'rate', 5.0).successful
    finally:
        node.destroy_node()


def test_ekf_noise_is_retuned(ros_context):
    node = EkfLocalizationNode(context=ros_context)
    try:
        assert set_one(node, 'gnss_variance', 4.0).successful
        assert set_one(node, 'q_position', 0.02).successful
        assert (node.localizer.config.gnss_variance, node.localizer.config.q_position) == (4.0, 0.02)
        assert node.localizer.config.lever_arm == (-0.30, 0.15, 0.60)   # from the robot description, kept
        assert not set_one(node, 'gnss_variance', -1.0).successful
        assert node.localizer.config.gnss_variance == 4.0
        assert not set_one(node, 'gate_gnss', 5.0).successful      # gates stay read-only
    finally:
        node.destroy_node()


def test_mission_behaviour_is_declared_from_the_core_config(ros_context, tmp_path):
    node = MissionExecutiveNode(context=ros_context, parameter_overrides=[
        Parameter('progress_file', value=str(tmp_path / 'progress.json')), Parameter('nav_retries', value=4)])
    try:
        assert node.executive_config.nav_retries == 4
        for field in declared(ExecutiveConfig):      # every ExecutiveConfig setting, with its description
            assert node.describe_parameter(field.name).description.startswith(field.metadata['rover_param'][
                'description'])
        assert not node.has_parameter('replan_distance')          # internal constants are not parameters
        assert set_one(node, 'resume_after_takeover', False).successful
        assert node.executive_config.resume_after_takeover is False
        assert not set_one(node, 'nav_retries', 1).successful      # read-only
        assert not set_one(node, 'resume_after_takeover', 3).successful
    finally:
        node.destroy_node()


def test_marker_thresholds_are_retuned(ros_context):
    node = ArucoDetectorNode(context=ros_context)
    try:
        before = node.detector
        assert set_one(node, 'min_side_px', 20.0).successful
        assert node.detector is not before and node.detector.config.min_side_px == 20.0
        assert not set_one(node, 'marker_size', 0.15).successful      # read-only: the physical marker
    finally:
        node.destroy_node()


def test_keyboard_teleop_speeds_are_retuned(ros_context):
    node = KeyboardTeleopNode(context=ros_context)
    try:
        assert set_one(node, 'linear', 0.2).successful and set_one(node, 'deadman', 0.6).successful
        assert node.speeds.linear == 0.2 and node.deadman.hold == 0.6
        assert not set_one(node, 'linear', 9.0).successful
    finally:
        node.destroy_node()


@pytest.mark.parametrize('name', ['log_every'])
def test_a_demo_node_applies_its_writable_parameter(ros_context, name):
    node = HeartbeatTalkerNode(context=ros_context)
    try:
        assert set_one(node, name, 3).successful and node.params.log_every == 3
    finally:
        node.destroy_node()
