"""Bringing the stack up: node sets (config/node_sets.yaml), the process runner and launch files."""
