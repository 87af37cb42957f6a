"""Camera: MuJoCo's offscreen renderer at the rover camera (camera_optical_frame), rgb8 images.

Rendering uses EGL without a display (MUJOCO_GL=egl, set by rover_stack.sim.model_builder when unset);
shadows and reflections are off in the model, which keeps 640x480 near 60 frames/s on a CPU core.
Optional Gaussian pixel noise (seeded). Intrinsics: pinhole from the vertical field of view, no distortion.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from rover_stack.common.param_spec import param


@dataclass
class CameraConfig:
    rate: float = param(15.0, 'camera/image_raw and camera/camera_info rate (0 = no camera)', unit='Hz',
                         low=0.0, high=60.0, read_only=True)
    width: int = param(640, 'Image width', unit='px', low=16, high=1920, read_only=True)
    height: int = param(480, 'Image height', unit='px', low=16, high=1080, read_only=True)
    fovy: float = param(45.0, 'Vertical field of view', unit='deg', low=10.0, high=150.0, read_only=True)
    pixel_noise: float = param(0.0, 'Gaussian noise added to each pixel (1 sigma, 0 = none)',
                               unit='grey levels', low=0.0, high=50.0, read_only=True)


@dataclass(frozen=True)
class ImageReading:
    stamp: float            # s
    image: np.ndarray       # height x width x 3 uint8, rgb8
    k: tuple[float, ...]    # 3x3 row-major camera matrix, px


class CameraModel:
    """Renders ``camera_name`` of a MuJoCo model; the renderer is created on the first frame."""

    def __init__(self, config: CameraConfig, rng: np.random.Generator, camera_name: str, k):
        self.config = config
        self.rng = rng
        self.camera_name = camera_name
        self.k = tuple(float(x) for x in k)
        self._renderer = None
        self._owner_thread: int | None = None   # an EGL context is current in one thread only

    def render(self, stamp: float, model, data) -> ImageReading:
        import mujoco  # noqa: PLC0415 - mujoco: after engine sets MUJOCO_GL

        if self._renderer is None:
            self._renderer = mujoco.Renderer(model, self.config.height, self.config.width)
            self._owner_thread = threading.get_ident()
        self._renderer.update_scene(data, camera=self.camera_name)
        image = self._renderer.render()
        if self.config.pixel_noise > 0.0:
            noise = self.rng.normal(0.0, self.config.pixel_noise, image.shape)
            image = np.clip(image + noise, 0, 255).astype(np.uint8)
        return ImageReading(stamp=stamp, image=np.ascontiguousarray(image), k=self.k)

    def close(self) -> bool:
        """Free the renderer. Only the thread that rendered can free its GL context; from another thread
        the renderer is dropped without GL calls (False), and the context goes with the process."""
        renderer, self._renderer = self._renderer, None
        if renderer is None:
            return True
        if threading.get_ident() != self._owner_thread:
            # keep the renderer's __del__ from making GL calls without its context current (that crashes)
            renderer._mjr_context = None
            renderer._gl_context = None
            return False
        renderer.close()
        return True
