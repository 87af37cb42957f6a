"""Drive: wheel kinematics, command limits and wheel odometry (pure Python), plus the drive node."""
