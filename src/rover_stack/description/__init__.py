"""The rover's physical description: geometry config shared by the URDF and the drive controller."""
