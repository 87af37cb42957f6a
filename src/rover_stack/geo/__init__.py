"""Geodesy: WGS84 latitude/longitude <-> the local ENU map frame (x east, y north)."""
from rover_stack.geo.enu import Datum, LocalTangentPlane, check_lat_lon

__all__ = ['Datum', 'LocalTangentPlane', 'check_lat_lon']
