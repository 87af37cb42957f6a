"""Rover stack: ROS 2 nodes and the pure-Python algorithms behind them."""
