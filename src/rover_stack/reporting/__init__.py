"""Reports of simulated runs: report.json (report.py), trajectory.png (plot.py), run.mcap (recorder.py)."""
