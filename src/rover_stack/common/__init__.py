"""Helpers shared by the stack's nodes (QoS profiles, parameters, time)."""
