"""How each emotion shows in the eye region over time: lid aperture, squint, pupil, blinks and gaze.

Effect sizes follow the direction the literature reports (a Duchenne smile and disgust raise the lower lid;
fear and surprise widen the eye; arousal dilates the pupil, surprise briefly; sadness lowers lids and gaze;
fear shifts gaze, anger stares, disgust looks away) but they are our assumption, not measurements. Every
effect is scaled by a per-wearer expressiveness and a per-clip strength and sits on per-wearer baselines, so the
classes overlap: a weakly expressed smile of a narrow-eyed wearer looks like another wearer's neutral.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Expression:
    open_delta: float
    """Change of lid openness (fraction of the relaxed opening) at full strength."""
    squint: float
    """Lower-lid raise, 0..1."""
    pupil_delta_mm: float
    transient: bool
    """Pupil change peaks about a second after onset and decays (surprise) rather than holding."""
    blink_per_s: float
    gaze: str
    """Gaze behaviour after onset: browse, dwell, stare, scan, drop, avert."""


EXPRESSIONS: dict[str, Expression] = {
    "neutral": Expression(0.0, 0.0, 0.0, False, 0.30, "browse"),
    "happy": Expression(-0.14, 0.55, 0.25, False, 0.35, "dwell"),
    "sad": Expression(-0.22, 0.10, -0.20, False, 0.20, "drop"),
    "angry": Expression(-0.18, 0.45, 0.35, False, 0.15, "stare"),
    "fear": Expression(0.16, 0.0, 0.55, False, 0.50, "scan"),
    "surprise": Expression(0.20, 0.0, 0.70, True, 0.15, "dwell"),
    "disgust": Expression(-0.18, 0.60, -0.10, False, 0.45, "avert"),
}


OPENNESS = (0.68, 0.95)
"""Relaxed lid opening of the population's wearers. Version 2 drew 0.68-0.86, and the session generator's wearer
(synth/gaze_script.py, the bundled sample's) opens 0.84-0.98, so its wide-open eye was outside what the models
knew and, with its pupil wander, looked like fear's widened eye."""


@dataclass(frozen=True)
class Wearer:
    """What one person brings to every clip: baselines and how strongly they express."""

    openness: float
    squint: float
    pupil_mm: float
    """Baseline pupil diameter."""
    expressiveness: float
    seed: int
    """Seeds the eye geometry and appearance, so one wearer keeps one eye."""

    @staticmethod
    def random(rng: np.random.Generator) -> Wearer:
        return Wearer(
            openness=float(rng.uniform(*OPENNESS)),
            squint=float(rng.uniform(0.0, 0.2)),
            pupil_mm=float(rng.uniform(3.6, 5.6)),
            expressiveness=float(rng.uniform(0.6, 1.2)),
            seed=int(rng.integers(0, 2**31)),
        )

    def shifted(self, openness: float, squint: float) -> Wearer:
        """The same wearer with a constant offset of their lids (a person whose neutral eye looks unlike the
        population's), for personalisation experiments."""
        return Wearer(
            float(np.clip(self.openness + openness, 0.3, 1.0)),
            float(np.clip(self.squint + squint, 0.0, 1.0)),
            self.pupil_mm,
            self.expressiveness,
            self.seed,
        )


@dataclass(frozen=True)
class EyeTrack:
    """Per-frame eye parameters of one clip."""

    openness: np.ndarray
    squint: np.ndarray
    pupil_mm: np.ndarray
    """Diameter."""
    blink: np.ndarray
    """bool: the frame catches a blink."""


LIGHT_CHANGE_P = 0.5
"""Share of clips whose pupil wanders for reasons the eye region does not show (light, a cloud, another room,
arousal unrelated to any expression). Version 1 had none, so a session wearer's swings read as the dilation of
fear or surprise; version 2 had them in 40 % of clips up to +-1.2 mm, half of what the session generator's wearer
does (synth/gaze_script.py: 4.7 +- 2.4 mm, four sines at 0.02-0.25 Hz), and the bundled sample's wander still
read as fear. Version 3 draws that same process."""
WANDER_MM = (0.3, 2.4)
WANDER_HZ = (0.02, 0.25)


def light_swing(rng: np.random.Generator, t_s: np.ndarray) -> np.ndarray:
    """An unexplained pupil wander over the clip, zero mean: four sines at 0.02-0.25 Hz whose weighted sum
    reaches at most the amplitude (0.3-2.4 mm), as synth/gaze_script.py draws a session wearer's pupil."""
    amp = float(rng.uniform(*WANDER_MM))
    f = rng.uniform(*WANDER_HZ, 4)
    ph = rng.uniform(0.0, 2 * math.pi, 4)
    w = rng.uniform(0.5, 1.0, 4)
    wave = (w[:, None] * np.sin(2 * math.pi * f[:, None] * t_s[None, :] + ph[:, None])).sum(0) / w.sum()
    return amp * (wave - wave.mean())


def _ramp(t_s: np.ndarray, onset_s: float, tau: float = 0.6) -> np.ndarray:
    dt = np.maximum(t_s - onset_s, 0.0)
    return np.where(t_s >= onset_s, 1.0 - np.exp(-dt / tau), 0.0)


def _transient(t_s: np.ndarray, onset_s: float) -> np.ndarray:
    """Rises in ~0.5 s, peaks near 1 s, decays to about a third by 4 s."""
    dt = np.maximum(t_s - onset_s, 0.0)
    shape = (dt / 1.0) * np.exp(1.0 - dt / 1.0)
    return np.where(t_s >= onset_s, 0.3 * _ramp(t_s, onset_s) + 0.7 * shape, 0.0)


def _blinks(rng: np.random.Generator, t_s: np.ndarray, rate: np.ndarray, step_s: float) -> np.ndarray:
    """Each frame stands for ``step_s`` of time; a blink (~0.25 s) in it is caught with P = rate * 0.25 s."""
    p = np.clip(rate * 0.25 * (step_s / 0.25), 0.0, 0.9)
    return rng.random(len(t_s)) < p


def eye_track(
    rng: np.random.Generator, wearer: Wearer, emotion: str, t_s: np.ndarray, onset_s: float
) -> tuple[EyeTrack, float]:
    """The eye's parameters for one clip and the strength the emotion was expressed with."""
    e = EXPRESSIONS[emotion]
    strength = wearer.expressiveness * float(rng.uniform(0.35, 1.25))
    on = _ramp(t_s, onset_s)
    pupil_shape = _transient(t_s, onset_s) if e.transient else on
    n = len(t_s)
    clip_open = float(rng.normal(0.0, 0.05))
    openness = wearer.openness + clip_open + e.open_delta * strength * on + rng.normal(0.0, 0.035, n)
    squint = wearer.squint + e.squint * strength * on + rng.normal(0.0, 0.05, n)
    # The pupil follows light too: a slow wander bigger than most emotional effects, as in daylight use; and in a
    # share of clips the light changes (a cloud, another room), swinging the pupil as far as any emotion does.
    light = float(rng.normal(0.0, 0.25)) + 0.15 * np.sin(2 * math.pi * t_s / rng.uniform(3, 9) + rng.uniform(0, 6))
    if rng.random() < LIGHT_CHANGE_P:
        light = light + light_swing(rng, t_s)
    pupil = wearer.pupil_mm + light + e.pupil_delta_mm * strength * pupil_shape + rng.normal(0.0, 0.06, n)
    step = float(t_s[1] - t_s[0]) if n > 1 else 0.25
    neutral_rate = EXPRESSIONS["neutral"].blink_per_s
    rate = neutral_rate + (e.blink_per_s - neutral_rate) * on * min(strength, 1.0)
    blink = _blinks(rng, t_s, rate, step)
    track = EyeTrack(
        openness=np.clip(openness, 0.25, 1.0),
        squint=np.clip(squint, 0.0, 1.0),
        pupil_mm=np.clip(pupil, 2.0, 8.0),
        blink=blink,
    )
    return track, strength
