"""Planar localization EKF: wheel odometry, IMU, GNSS and known landmarks in the map frame.

Pure numpy, no ROS; ``ekf_localization_node`` wraps it. State and models: see ``models.py`` (x east, y north,
yaw CCW from east, v, yaw rate, gyro bias). Every update

* rejects non-finite values ('nan') and stamps older than the filter time ('out_of_order'),
* predicts to the measurement stamp (constant speed and turn rate, steps of at most ``max_step`` s),
* gates on the squared Mahalanobis distance against the sensor's chi-square threshold ('gate');
  after ``max_consecutive_rejections`` in a row the covariance of the measured states is inflated
  by the innovation and the measurement applied (counted as a reset) so the filter cannot lock out
  a sensor for ever,
* applies the Joseph-form update, wraps the yaw, and keeps the covariance symmetric with its
  eigenvalues in [``covariance_floor``, ``covariance_ceiling``].

Position is set by the first GNSS fix. The heading starts unknown (variance pi^2, no position/yaw
coupling) and is set by the IMU yaw when that is enabled, else by ``HeadingInitializer`` once the
rover has driven ``heading_init_distance`` m; landmark fixes wait for a known heading.
"""
from __future__ import annotations

import copy
import math
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from rover_stack.common.angles import wrap_angle
from rover_stack.common.param_spec import param
from rover_stack.localization import models
from rover_stack.localization.gating import mahalanobis_squared, passes_gate, symmetric_positive_definite
from rover_stack.localization.heading import HeadingInitializer
from rover_stack.localization.map_odom import Pose2D
from rover_stack.localization.models import BIAS, STATE_SIZE, YAW, V, W, X, Y

SENSORS = ('odom', 'imu', 'imu_yaw', 'gnss', 'landmark')


@dataclass
class EkfConfig:
    """Filter tuning. Variances in unit^2, spectral densities in unit^2/s. The ``param`` fields are
    ekf_localization's ROS parameters, declared from here (the noise figures writable at run time, the
    gates and heading fit read-only); the others are internal constants (lever_arm comes from the robot
    description)."""
    q_position: float = param(0.005, 'Process noise: position', unit='m^2/s', low=0.0, high=100.0)
    q_lateral: float = 0.0002       # m^2/s, across the heading: sideways sliding
    q_yaw: float = param(1.0e-6, 'Process noise: yaw', unit='rad^2/s', low=0.0, high=10.0)
    q_speed: float = param(0.5, 'Process noise: speed', unit='(m/s)^2/s', low=0.0, high=100.0)
    q_yaw_rate: float = param(0.5, 'Process noise: yaw rate', unit='(rad/s)^2/s', low=0.0, high=100.0)
    q_gyro_bias: float = param(1.0e-9, 'Process noise: gyro bias', unit='(rad/s)^2/s', low=0.0, high=1.0)
    initial_speed_variance: float = 1.0
    initial_yaw_rate_variance: float = 1.0
    initial_gyro_bias_variance: float = 1.0e-4
    odom_speed_variance: float = param(0.0025, 'Odometry speed variance if the message has none',
                                       unit='(m/s)^2', low=1e-8, high=100.0)
    odom_yaw_rate_variance: float = param(0.02, 'Odometry yaw-rate variance (straight driving) if the '
                                          'message has none or use_odom_covariance is false',
                                          unit='(rad/s)^2', low=1e-8, high=100.0)
    odom_yaw_rate_slip: float = param(0.5, 'Relative 1-sigma error of the odometry yaw rate (skid-steer '
                                      'slip in turns): adds (slip * w)^2 to its variance', low=0.0, high=5.0)
    stationary_threshold: float = 1.0e-3     # odometry |v| (m/s) and |w| (rad/s) at or below: standing still
    stationary_variance: float = 1.0e-6      # (m/s)^2, (rad/s)^2 of the zero twist while standing still
    gyro_variance: float = param(1.0e-4, 'Gyro z variance if the message has none', unit='(rad/s)^2',
                                 low=1e-10, high=10.0)
    imu_yaw_variance: float = param(0.05, 'IMU yaw variance if the message has none', unit='rad^2',
                                    low=1e-8, high=10.0)
    gnss_variance: float = param(6.25, 'Fix variance per axis for COVARIANCE_TYPE_UNKNOWN', unit='m^2',
                                 low=1e-6, high=1.0e4)
    landmark_range_variance: float = param(0.04, 'Marker range variance', unit='m^2', low=1e-8, high=100.0)
    landmark_bearing_variance: float = param(0.0025, 'Marker bearing variance', unit='rad^2', low=1e-8,
                                             high=10.0)
    gate_odom: float = param(13.8, 'Chi-square gate, odometry (2 dof; <= 0 off)', low=0.0, high=1e6,
                             read_only=True)
    gate_imu: float = param(10.8, 'Chi-square gate, gyro (1 dof)', low=0.0, high=1e6, read_only=True)
    gate_imu_yaw: float = param(10.8, 'Chi-square gate, IMU yaw (1 dof)', low=0.0, high=1e6, read_only=True)
    gate_gnss: float = param(13.8, 'Chi-square gate, GNSS (2 dof)', low=0.0, high=1e6, read_only=True)
    gate_landmark: float = param(13.8, 'Chi-square gate, marker range/bearing (2 dof)', low=0.0, high=1e6,
                                 read_only=True)
    max_consecutive_rejections: dict = field(default_factory=lambda: {
        'odom': 25, 'imu': 50, 'imu_yaw': 20, 'gnss': 100, 'landmark': 10})
    lever_arm: tuple = (0.0, 0.0, 0.0)      # m, GNSS antenna in base_link
    heading_init_distance: float = param(8.0, 'Track length before the heading is fitted from GNSS',
                                         unit='m', low=1.0, high=1000.0, read_only=True)
    heading_init_min_variance: float = 1.0e-3   # rad^2 (~1.8 deg)
    covariance_floor: float = 1.0e-9
    covariance_ceiling: float = 1.0e6
    max_step: float = 0.1            # s, longest single prediction step

    def spectral_density(self) -> np.ndarray:
        return np.array([self.q_position, self.q_position, self.q_yaw, self.q_speed, self.q_yaw_rate,
                         self.q_gyro_bias])

    def gate(self, sensor: str) -> float:
        return float(getattr(self, f'gate_{sensor}'))


@dataclass
class SensorStats:
    """Book-keeping per sensor, for diagnostics."""
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)   # reason -> count
    resets: int = 0
    consecutive_rejections: int = 0
    last_stamp: float | None = None       # s, stamp of the last accepted measurement
    last_d2: float = 0.0


def _finite(*values) -> bool:
    """True when every number (scalars or arrays) is finite."""
    for value in values:
        if isinstance(value, float | int):
            if not math.isfinite(value):
                return False
        else:
            try:
                if not np.all(np.isfinite(np.asarray(value, dtype=float))):
                    return False
            except (TypeError, ValueError):
                return False
    return True


#: Full eigenvalue repair of the covariance every this many updates (symmetrised every time).
REPAIR_EVERY = 10


class Localizer:
    """The EKF plus initialisation logic and per-sensor statistics. Times in s (any epoch)."""

    def __init__(self, config: EkfConfig | None = None):
        self.config = c = config or EkfConfig()
        self.lever_arm = np.asarray(c.lever_arm, dtype=float)
        self.x = np.zeros(STATE_SIZE)
        self.P = np.diag([c.covariance_ceiling, c.covariance_ceiling, math.pi ** 2, c.initial_speed_variance,
                          c.initial_yaw_rate_variance, c.initial_gyro_bias_variance])
        self.time: float | None = None
        self.position_initialized = False
        self.heading_initialized = False
        self.roll = 0.0
        self.pitch = 0.0
        self.stats = {name: SensorStats() for name in SENSORS}
        self.heading_init = HeadingInitializer(self.lever_arm, c.heading_init_distance)
        self._q_density = c.spectral_density()
        self._identity = np.eye(STATE_SIZE)
        self._since_repair = 0

    # ---- queries --------------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return self.position_initialized and self.heading_initialized

    def pose(self) -> Pose2D:
        return Pose2D(float(self.x[X]), float(self.x[Y]), float(self.x[YAW]))

    def snapshot(self) -> tuple:
        """A copy of everything that updates change (state, covariance, time, attitude, initialisation,
        per-sensor statistics), for ``restore``: rewinding the filter to re-apply a late measurement."""
        stats = {name: replace(st, rejected=Counter(st.rejected)) for name, st in self.stats.items()}
        heading = None if self.heading_initialized else copy.deepcopy(self.heading_init)
        return (self.x.copy(), self.P.copy(), self.time, self.roll, self.pitch, self.position_initialized,
                self.heading_initialized, self._since_repair, stats, heading)

    def restore(self, snapshot: tuple) -> None:
        """Return to the state of ``snapshot`` (which stays usable for another restore)."""
        (x, p, self.time, self.roll, self.pitch, self.position_initialized, self.heading_initialized,
         self._since_repair, stats, heading) = snapshot
        self.x, self.P = x.copy(), p.copy()
        self.stats = {name: replace(st, rejected=Counter(st.rejected)) for name, st in stats.items()}
        if heading is not None:
            self.heading_init = copy.deepcopy(heading)
        else:
            self.heading_init.reset()

    def reject(self, sensor: str, reason: str) -> str:
        """Count a rejection (also used by the node for 'future', 'no_fix', ...); returns the reason."""
        stats = self.stats[sensor]
        stats.rejected[reason] += 1
        return reason

    def check_stamp(self, sensor: str, stamp: float, now: float, future_tolerance: float) -> str | None:
        """Reject (and count) a measurement stamp that is missing, not finite ('no_stamp') or more
        than ``future_tolerance`` s ahead of ``now`` ('future'); None when usable."""
        if not math.isfinite(stamp) or stamp <= 0.0:
            return self.reject(sensor, 'no_stamp')
        if stamp > now + future_tolerance:
            return self.reject(sensor, 'future')
        return None

    # ---- prediction -----------------------------------------------------------------------------
    def predict_to(self, t: float) -> None:
        """Advance the state to time ``t`` s (no-op for t at or before the filter time)."""
        if self.time is None:
            self.time = t
            return
        remaining = t - self.time
        while remaining > 1e-9:
            dt = min(remaining, self.config.max_step)
            self._predict(dt)
            remaining -= dt
        self.time = max(self.time, t)

    def _predict(self, dt: float) -> None:
        v, w = self.x[V], self.x[W]
        self.x, f = models.predict_state(self.x, dt)
        lateral = self.config.q_lateral if self.heading_initialized else self.config.q_position
        q = models.process_noise(dt, self._q_density, self.x[YAW], lateral)
        if not self.heading_initialized:
            # Heading unknown: do not linearise around it; the position spreads by the distance moved.
            f[X, YAW] = f[Y, YAW] = 0.0
            spread = (v * dt) ** 2
            q[X, X] += spread
            q[Y, Y] += spread
            self.heading_init.advance(v, w, dt)
        self.P = f @ self.P @ f.T + q
        self._repair(full=False)

    def _repair(self, full: bool = True) -> None:
        """Keep P symmetric; clamp its eigenvalues to [floor, ceiling] on ``full`` repairs, every
        ``REPAIR_EVERY`` updates, whenever a variance falls to the floor, and whenever the trace (a bound
        on the largest eigenvalue, which correlations can lift above every variance) reaches the ceiling."""
        c = self.config
        self._since_repair += 1
        diagonal = np.diag(self.P)
        if (full or self._since_repair >= REPAIR_EVERY or diagonal.min() <= c.covariance_floor
                or diagonal.sum() >= c.covariance_ceiling):
            self.P = symmetric_positive_definite(self.P, c.covariance_floor, c.covariance_ceiling)
            self._since_repair = 0
        else:
            self.P = 0.5 * (self.P + self.P.T)
        if not self.heading_initialized:
            yaw_var = self.P[YAW, YAW]
            self.P[YAW, :] = 0.0
            self.P[:, YAW] = 0.0
            self.P[YAW, YAW] = yaw_var

    # ---- the generic update ---------------------------------------------------------------------
    def _admit(self, sensor: str, t: float, *values) -> str | None:
        """Common checks before an update; a rejection reason or None. Predicts to ``t`` if admitted."""
        if not _finite(t, *values):
            return self.reject(sensor, 'nan')
        if self.time is not None and t < self.time - 1e-9:
            return self.reject(sensor, 'out_of_order')
        self.predict_to(t)
        return None

    def _update(self, sensor: str, t: float, z: np.ndarray, model: tuple[np.ndarray, np.ndarray], *,
                r: np.ndarray, angle_rows: tuple[int, ...] = ()) -> str | None:
        """Gate and apply measurement ``z`` with model (h(x), H) and noise ``r``."""
        stats = self.stats[sensor]
        h, jac = model
        y = z - h
        for row in angle_rows:
            y[row] = wrap_angle(y[row])
        s = jac @ self.P @ jac.T + r
        try:
            s_inv = np.linalg.inv(s)
        except np.linalg.LinAlgError:
            return self.reject(sensor, 'singular')
        d2 = mahalanobis_squared(y, s_inv)
        stats.last_d2 = d2
        if not passes_gate(d2, self.config.gate(sensor)):
            stats.consecutive_rejections += 1
            limit = self.config.max_consecutive_rejections.get(sensor, 0)
            if not math.isfinite(d2) or limit <= 0 or stats.consecutive_rejections <= limit:
                return self.reject(sensor, 'gate')
            self._inflate(jac, y)
            stats.resets += 1
            s = jac @ self.P @ jac.T + r
            s_inv = np.linalg.inv(s)
        stats.consecutive_rejections = 0
        k = self.P @ jac.T @ s_inv
        self.x = self.x + k @ y
        self.x[YAW] = wrap_angle(self.x[YAW])
        a = self._identity - k @ jac
        self.P = a @ self.P @ a.T + k @ r @ k.T
        self._repair(full=False)
        stats.accepted += 1
        stats.last_stamp = t
        return None

    def _inflate(self, jac: np.ndarray, y: np.ndarray) -> None:
        """Grow the variance of the state each measurement row depends on most, by that row's
        innovation squared, so that a persistent disagreement is eventually believed."""
        for row in range(jac.shape[0]):
            col = int(np.argmax(np.abs(jac[row])))
            gain = jac[row, col]
            if gain != 0.0:
                self.P[col, col] += (y[row] / gain) ** 2
        self._repair()

    # ---- sensors --------------------------------------------------------------------------------
    def update_odom(self, t: float, v: float, w: float, var_v: float | None = None,
                    var_w: float | None = None) -> str | None:
        """Wheel odometry twist: body forward speed ``v`` m/s, yaw rate ``w`` rad/s at time ``t``.

        Wheels that do not turn at all mean the rover stands still: the zero twist is then fused with
        ``stationary_variance`` (a zero-velocity update), which pins the gyro bias while waiting.
        Skid-steer wheels slip in turns, so the yaw rate they report is off by a fraction of itself
        (the simulated skid4 over-reads turns by ~40 %): ``(odom_yaw_rate_slip * w)^2`` is added to
        its variance. Straight driving stays informative, which is what lets the filter follow the
        gyro bias while GNSS is away.
        """
        c = self.config
        var_v = c.odom_speed_variance if var_v is None else var_v
        var_w = c.odom_yaw_rate_variance if var_w is None else var_w
        slip = c.odom_yaw_rate_slip * w
        var_w += slip * slip        # not ** 2: that raises OverflowError for a huge w; inf is rejected below
        if abs(v) <= c.stationary_threshold and abs(w) <= c.stationary_threshold:
            var_v = var_w = c.stationary_variance
        if reason := self._admit('odom', t, v, w, var_v, var_w):
            return reason
        model = models.odom_twist_model(self.x, self.roll, self.pitch)
        return self._update('odom', t, np.array([v, w]), model, r=np.diag([var_v, var_w]))

    def update_imu(self, t: float, rate_z: float, var: float | None = None,
                   roll: float | None = None, pitch: float | None = None) -> str | None:
        """IMU gyro z in rad/s (body frame); roll/pitch in rad (from its orientation) when known."""
        var = self.config.gyro_variance if var is None else var
        attitude = [a for a in (roll, pitch) if a is not None]
        if reason := self._admit('imu', t, rate_z, var, *attitude):
            return reason
        if roll is not None and pitch is not None:
            self.roll, self.pitch = float(roll), float(pitch)
        model = models.gyro_model(self.x, self.roll, self.pitch)
        return self._update('imu', t, np.array([rate_z]), model, r=np.array([[var]]))

    def update_yaw(self, t: float, yaw: float, var: float | None = None) -> str | None:
        """Absolute yaw in rad, CCW from east (IMU orientation / compass; off by default in the node)."""
        var = self.config.imu_yaw_variance if var is None else var
        if reason := self._admit('imu_yaw', t, yaw, var):
            return reason
        if not self.heading_initialized:
            self.x[YAW] = wrap_angle(yaw)
            self.P[YAW, YAW] = var
            self._set_heading_known()
            self.stats['imu_yaw'].accepted += 1
            self.stats['imu_yaw'].last_stamp = t
            return None
        return self._update('imu_yaw', t, np.array([yaw]), models.yaw_model(self.x), r=np.array([[var]]),
                            angle_rows=(0,))

    def update_gnss(self, t: float, east: float, north: float, cov: np.ndarray | None = None) -> str | None:
        """Antenna position in the map frame (m) with its 2x2 east/north covariance (m^2)."""
        c = self.config
        cov = np.eye(2) * c.gnss_variance if cov is None else np.asarray(cov, dtype=float)
        if reason := self._admit('gnss', t, east, north, cov):
            return reason
        z = np.array([east, north])
        if not self.position_initialized:
            self._init_position(z, cov)
            self.stats['gnss'].accepted += 1
            self.stats['gnss'].last_stamp = t
            return None
        h, jac = models.gnss_model(self.x, self.lever_arm, self.roll, self.pitch)
        if not self.heading_initialized:
            lever = models.lever_arm_in_plane(self.lever_arm, self.roll, self.pitch)
            jac[:, YAW] = 0.0
            r = cov + np.eye(2) * float(lever @ lever)   # antenna offset direction unknown
            reason = self._update('gnss', t, z, (h, jac), r=r)
            if reason is None:
                self.heading_init.add_fix(z, float(np.trace(cov)) / 2.0, self.roll, self.pitch)
                self._try_heading_fit()
            return reason
        return self._update('gnss', t, z, (h, jac), r=cov)

    def update_landmark(self, t: float, landmark: tuple[float, float], range_m: float, bearing: float, *,
                        var_range: float | None = None, var_bearing: float | None = None) -> str | None:
        """Range (m) and bearing (rad, CCW from base_link +x) to a landmark at known map (x, y) in m."""
        c = self.config
        var_range = c.landmark_range_variance if var_range is None else var_range
        var_bearing = c.landmark_bearing_variance if var_bearing is None else var_bearing
        if reason := self._admit('landmark', t, *landmark, range_m, bearing, var_range, var_bearing):
            return reason
        if not self.initialized:
            return self.reject('landmark', 'heading_unknown')
        model = models.landmark_model(self.x, landmark)
        return self._update('landmark', t, np.array([range_m, bearing]), model,
                            r=np.diag([var_range, var_bearing]), angle_rows=(1,))

    # ---- initialisation -------------------------------------------------------------------------
    def _init_position(self, z: np.ndarray, cov: np.ndarray) -> None:
        lever = models.lever_arm_in_plane(self.lever_arm, self.roll, self.pitch)
        if self.heading_initialized:
            c, s = math.cos(self.x[YAW]), math.sin(self.x[YAW])
            self.x[X:Y + 1] = z - np.array([c * lever[0] - s * lever[1], s * lever[0] + c * lever[1]])
            extra = 0.0
        else:
            self.x[X:Y + 1] = z
            extra = float(lever @ lever)
        self.P[X:Y + 1, :] = 0.0
        self.P[:, X:Y + 1] = 0.0
        self.P[X:Y + 1, X:Y + 1] = cov + np.eye(2) * extra
        self._repair()
        self.position_initialized = True
        if not self.heading_initialized:
            self.heading_init.reset()
            self.heading_init.add_fix(z, float(np.trace(cov)) / 2.0, self.roll, self.pitch)

    def _try_heading_fit(self) -> None:
        fit = self.heading_init.fit()
        if fit is None:
            return
        xy, yaw = self.heading_init.map_pose(fit)
        variance = max(fit.rotation_variance, self.config.heading_init_min_variance)
        self.x[X:Y + 1] = xy
        self.x[YAW] = yaw
        span = self.heading_init.span()
        position_variance = fit.residual_rms ** 2 / max(fit.samples, 1) + variance * span ** 2
        self.P[X:Y + 1, :] = 0.0
        self.P[:, X:Y + 1] = 0.0
        self.P[X:Y + 1, X:Y + 1] = np.eye(2) * max(position_variance, 0.05)
        self.P[YAW, YAW] = variance
        self._set_heading_known()

    def _set_heading_known(self) -> None:
        self.heading_initialized = True
        self.heading_init.reset()
        self._repair()

    # ---- helpers for the node -------------------------------------------------------------------
    def covariance_trace(self) -> float:
        return float(np.trace(self.P[:3, :3]))

    def gyro_bias(self) -> float:
        return float(self.x[BIAS])
