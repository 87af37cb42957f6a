"""Embedded simulator: course files (course.py), procedural terrain (terrain.py), ArUco marker
textures (markers.py), and the MuJoCo world built from them."""
