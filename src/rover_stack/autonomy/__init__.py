"""Autonomy: the mission file format (mission.py) and the mission execution built on it."""
