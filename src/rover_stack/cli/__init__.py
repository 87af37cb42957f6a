"""Command-line front ends (rover_sim, ...); they may print, library code may not."""
