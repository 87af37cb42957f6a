"""Real-rover hardware drivers: the motor-controller protocol, link, emulator and driver node."""
