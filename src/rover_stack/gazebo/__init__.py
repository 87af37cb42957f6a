"""Gazebo (gz sim 8, Harmonic) side of the stack: world generation from course files, the bridge
configuration check and the per-wheel command adapter. Nothing here needs Gazebo to import."""
