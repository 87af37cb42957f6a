"""Every executable the package installs: name -> 'module:function'.

CMakeLists.txt reads this file (without importing the package) to install lib/rover_stack/<name> for
each entry, and the node-set descriptions (config/node_sets.yaml) may name only executables listed
here, so the two can't drift.
This module must stay free of imports.
"""

EXECUTABLES = {
    # bringup
    'rover_runner': 'rover_stack.bringup.runner:main',
    'rover_container': 'rover_stack.bringup.container:main',   # several nodes in one process
    'rover_sim': 'rover_stack.cli.rover_sim:main',
    'rover': 'rover_stack.cli.rover:main',   # main CLI: rover sim (the main job)
    'mission_executive': 'rover_stack.autonomy.mission_executive_node:main',   # autonomy: mission executive
    'gps_waypoint_follower': 'rover_stack.autonomy.gps_waypoint_follower_node:main',   # Nav2 GPS waypoints
    'drive_controller': 'rover_stack.drive.drive_controller_node:main',   # drive
    'cmd_arbitration': 'rover_stack.drive.cmd_arbitration_node:main',   # drive
    'motor_driver': 'rover_stack.hardware.motor_driver_node:main',   # hardware driver
    'rover_simulator': 'rover_stack.sim.rover_simulator_node:main',   # embedded MuJoCo simulator
    'ekf_localization': 'rover_stack.localization.ekf_localization_node:main',   # localization
    'aruco_detector': 'rover_stack.perception.aruco_detector_node:main',   # perception
    'object_detector': 'rover_stack.perception.object_detector_node:main',   # perception
    'obstacle_grid': 'rover_stack.perception.obstacle_grid_node:main',   # perception
    'navigator': 'rover_stack.navigation.navigator_node:main',   # navigation (navigate_to_goal action)
    'camera_driver': 'rover_stack.perception.camera_driver_node:main',   # perception (real camera)
    'gnss_driver': 'rover_stack.drivers.gnss_driver_node:main',   # NMEA GNSS driver
    'imu_driver': 'rover_stack.drivers.imu_driver_node:main',   # serial IMU driver
    'gz_wheel_adapter': 'rover_stack.gazebo.gz_wheel_adapter_node:main',   # Gazebo joint commands
    'rover_gz_world': 'rover_stack.gazebo.world:main',   # Gazebo world from a course file
    'gz_sim': 'rover_stack.gazebo.launchers:gz_sim_main',   # exec gz sim with a package world
    'gz_spawn': 'rover_stack.gazebo.launchers:gz_spawn_main',   # exec ros_gz_sim create (rover URDF)
    'gz_bridge': 'rover_stack.gazebo.launchers:gz_bridge_main',   # exec ros_gz_bridge (gz_bridge.yaml)
    'web_bridge': 'rover_stack.base_station.web_bridge_node:main',   # base station: web page + WebSocket
    'keyboard_teleop': 'rover_stack.base_station.keyboard_teleop_node:main',   # base station: terminal teleop
    'joystick_teleop': 'rover_stack.base_station.joystick_teleop_node:main',   # base station: game controller
    'foxglove_bridge': 'rover_stack.base_station.foxglove_bridge_node:main',   # base station: Foxglove
    # transforms
    'static_tf_publisher': 'rover_stack.tf.static_tf_publisher_node:main',
    # test and demo nodes used by the bringup tests
    'heartbeat_talker': 'rover_stack.demo.heartbeat:talker_main',
    'heartbeat_listener': 'rover_stack.demo.heartbeat:listener_main',
    'fail_on_start': 'rover_stack.demo.fail_on_start:main',
}

# Nodes that may share a process (`container:` in config/node_sets.yaml): executable -> 'module:Class'.
# Each class takes rclpy Node keyword arguments (cli_args, use_global_arguments) and cleans up in
# destroy_node (e.g. the drive controller's final zero command).
COMPONENTS = {
    'static_tf_publisher': 'rover_stack.tf.static_tf_publisher_node:StaticTfPublisherNode',
    'cmd_arbitration': 'rover_stack.drive.cmd_arbitration_node:CmdArbitrationNode',
    'drive_controller': 'rover_stack.drive.drive_controller_node:DriveControllerNode',
    'ekf_localization': 'rover_stack.localization.ekf_localization_node:EkfLocalizationNode',
    'navigator': 'rover_stack.navigation.navigator_node:NavigatorNode',
    'obstacle_grid': 'rover_stack.perception.obstacle_grid_node:ObstacleGridNode',
    'aruco_detector': 'rover_stack.perception.aruco_detector_node:ArucoDetectorNode',
    'object_detector': 'rover_stack.perception.object_detector_node:ObjectDetectorNode',
    'mission_executive': 'rover_stack.autonomy.mission_executive_node:MissionExecutiveNode',
}
