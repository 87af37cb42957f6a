"""trajectory.png: the course, true and estimated paths, GNSS fixes, detections and legs (matplotlib)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt
from matplotlib.patches import Circle

from rover_stack.reporting.report import LegTruth, Track

EVENT_COLORS = {'leg': 'tab:blue', 'mission': 'tab:purple', 'takeover': 'tab:orange', 'estop': 'tab:red'}


def plot_run(path: str | Path, course, legs: list[LegTruth], leg_reports: list[dict], *, truth: Track,
             estimate: Track, gnss: list[tuple[float, float]], detections: list[tuple[float, float, str]],
             title: str = '') -> None:
    """Write the figure to ``path`` (PNG). Map frame, metres; ``course`` is a sim.course.Course."""
    fig, ax = plt.subplots(figsize=(9, 9))
    for rock in course.rocks:
        ax.add_patch(Circle((rock.x, rock.y), rock.radius, color='0.55', alpha=0.7, lw=0))
    for post in course.posts:
        ax.plot(post.x, post.y, 's', color='black', ms=5)
        ax.annotate(str(post.tag_id), (post.x, post.y), xytext=(3, 3), textcoords='offset points', fontsize=7)
    for gate in course.gates:
        left, right = course.post(gate.left_tag), course.post(gate.right_tag)
        ax.plot([left.x, right.x], [left.y, right.y], '-', color='black', lw=2)
    for obj in course.objects:
        ax.plot(obj.x, obj.y, 'D', color='tab:orange' if obj.kind == 'mallet' else 'tab:blue', ms=6)
    for wp in course.waypoints:
        ax.plot(wp.x, wp.y, '^', color='tab:green', ms=7)
    if gnss:
        gx, gy = zip(*gnss, strict=True)
        ax.plot(gx, gy, '.', color='tab:purple', ms=2, alpha=0.4, label='GNSS fixes')
    if len(truth):
        ax.plot(truth.x, truth.y, '-', color='tab:green', lw=1.5, label='ground truth')
    if len(estimate):
        ax.plot(estimate.x, estimate.y, '--', color='tab:red', lw=1.0, label='estimate (odometry/filtered)')
    if detections:
        dx, dy, _ = zip(*detections, strict=True)
        ax.plot(dx, dy, 'x', color='tab:cyan', ms=4, alpha=0.6, label='detections')
    for i, (leg, entry) in enumerate(zip(legs, leg_reports, strict=True)):
        ok = entry.get('reached')
        color = 'tab:green' if ok else 'tab:red'
        ax.add_patch(Circle(leg.target, leg.tolerance, fill=False, ls=':', color=color))
        error = entry.get('final_error_m')
        ax.annotate(f'{i + 1} {leg.kind} {leg.name}\n{"ok" if ok else "missed"}'
                    + (f' {error:.2f} m' if error is not None else ''),
                    leg.target, xytext=(6, -14), textcoords='offset points', fontsize=7)
    ax.plot(course.start_x, course.start_y, 'o', color='black', ms=6, label='start')
    ax.set_aspect('equal')
    ax.set_xlabel('x east (m)')
    ax.set_ylabel('y north (m)')
    ax.grid(True, alpha=0.3)
    ax.legend(loc='best', fontsize=8)
    ax.set_title(title or course.name)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_tracks(path: str | Path, *, truth: Track, estimate: Track, events=(), title: str = '') -> None:
    """Truth and estimate paths (map frame, m) with the truth position of each event marked."""
    fig, ax = plt.subplots(figsize=(8, 8))
    if len(truth):
        ax.plot(truth.x, truth.y, '-', color='tab:green', lw=1.5, label='ground truth')
        ax.plot(truth.x[0], truth.y[0], 'o', color='black', ms=6, label='start')
    if len(estimate):
        ax.plot(estimate.x, estimate.y, '--', color='tab:red', lw=1.0, label='estimate (odometry/filtered)')
    reference = truth if len(truth) else estimate
    for event in events:
        where = reference.at(event.t)
        if where is not None:
            ax.plot(*where, 'v', color=EVENT_COLORS.get(event.kind, 'black'), ms=6)
            ax.annotate(event.text, where, xytext=(4, 4), textcoords='offset points', fontsize=6)
    ax.set_aspect('equal', adjustable='datalim')
    ax.set_xlabel('x east (m)')
    ax.set_ylabel('y north (m)')
    ax.grid(True, alpha=0.3)
    ax.legend(loc='best', fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)



def plot_error(path: str | Path, errors, events=(), title: str = '') -> None:
    """Horizontal position error (m) over time (s), ``errors`` an (N, 2) array; events as lines."""
    fig, ax = plt.subplots(figsize=(10, 4))
    if len(errors):
        ax.plot(errors[:, 0], errors[:, 1], '-', color='tab:red', lw=1.0, label='|estimate - truth|')
    for event in events:
        ax.axvline(event.t, color=EVENT_COLORS.get(event.kind, 'black'), lw=0.8, ls=':')
        ax.annotate(event.text, (event.t, 1.0), xycoords=('data', 'axes fraction'), rotation=90, va='top',
                    ha='right', fontsize=6)
    ax.set_xlabel('time (s)')
    ax.set_ylabel('position error (m)')
    ax.set_ylim(0.0, 1.25 * float(errors[:, 1].max()) + 0.05 if len(errors) else 1.0)
    ax.grid(True, alpha=0.3)
    if len(errors):
        ax.legend(loc='upper left', fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
