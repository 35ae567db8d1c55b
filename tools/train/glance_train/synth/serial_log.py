"""The glasses microcontroller's serial traffic (docs/serial-protocol.md), as recorded in ``serial.log``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GRAVITY = 9.81


def checksum(body: str) -> str:
    """XOR of the bytes between ``$`` and ``*``, as two upper-case hex digits."""
    cs = 0
    for b in body.encode("ascii"):
        cs ^= b
    return f"{cs:02X}"


def format_line(kind: str, seq: int, fields: list[str]) -> str:
    body = ",".join([kind, str(seq), *fields])
    return f"${body}*{checksum(body)}"


def line_is_valid(raw: str) -> bool:
    """Checksum and framing check only; field validation belongs to the device's parser."""
    raw = raw.rstrip("\r\n")
    if not raw.startswith("$") or "*" not in raw or len(raw) > 256:
        return False
    body, _, cs = raw[1:].rpartition("*")
    return len(cs) == 2 and cs == checksum(body)


@dataclass(frozen=True)
class _Msg:
    t_ns: int
    order: int
    kind: str
    fields: list[str]


def _imu(rng: np.random.Generator, t0_ns: int, seconds: float) -> list[_Msg]:
    """100 Hz: a head that is mostly still, with slow sway in pitch/roll/yaw plus sensor noise and bias."""
    n = int(seconds * 100)
    t = np.arange(n) / 100.0
    freqs = rng.uniform(0.05, 0.4, (3, 3))
    amps = np.radians(rng.uniform(0.3, 1.5, (3, 3)))
    phases = rng.uniform(0, 2 * math.pi, (3, 3))
    ang = (amps[..., None] * np.sin(2 * math.pi * freqs[..., None] * t + phases[..., None])).sum(1)
    rate = (amps[..., None] * 2 * math.pi * freqs[..., None]
            * np.cos(2 * math.pi * freqs[..., None] * t + phases[..., None])).sum(1)
    pitch, yaw, roll = ang
    pitch = pitch + math.radians(rng.uniform(-8, 8))  # a wearer rarely holds their head exactly level
    # Gravity in the device frame (x right, y up, z back): the accelerometer reads -g along y when level.
    ax = GRAVITY * np.sin(roll)
    ay = -GRAVITY * np.cos(roll) * np.cos(pitch)
    az = GRAVITY * np.cos(roll) * np.sin(pitch)
    acc = np.stack([ax, ay, az]) + rng.normal(0, 0.02, (3, n))
    gyro = np.stack([rate[0], rate[1], rate[2]]) + rng.normal(0, 0.002, (3, n)) + rng.normal(0, 0.003, (3, 1))
    times = t0_ns + 3_000_000 + np.arange(n, dtype=np.int64) * 10_000_000 + rng.integers(-300_000, 300_001, n)
    return [
        _Msg(int(times[i]), 0, "IMU", [*(f"{v:.3f}" for v in acc[:, i]), *(f"{v:.4f}" for v in gyro[:, i])])
        for i in range(n)
    ]


def _housekeeping(rng: np.random.Generator, t0_ns: int, seconds: float) -> list[_Msg]:
    """Battery and SoC temperature once a second: slow trends with a little measurement noise."""
    out: list[_Msg] = []
    mv0, temp0 = rng.uniform(3880, 3990), rng.uniform(39.0, 44.0)
    for k in range(int(seconds)):
        t_ns = t0_ns + k * 1_000_000_000 + 500_000_000
        mv = mv0 - 0.9 * k + rng.normal(0, 1.5)
        pct = int(np.clip(round((mv - 3300) / 9.0), 0, 100))
        out.append(_Msg(t_ns + int(rng.integers(0, 200_000)), 1, "BAT", [str(pct), str(int(round(mv))), "0"]))
        celsius = temp0 + 0.03 * k + rng.normal(0, 0.05)
        out.append(_Msg(t_ns + 250_000_000 + int(rng.integers(0, 200_000)), 2, "TMP", [f"{celsius:.2f}"]))
    return out


def _buttons(rng: np.random.Generator, t0_ns: int, seconds: float) -> list[_Msg]:
    """2-3 presses spread over the session, each a down then an up 0.12-0.45 s later."""
    count = int(rng.integers(2, 4))
    out: list[_Msg] = []
    for i in range(count):
        start = seconds * (0.1 + 0.8 * (i + rng.uniform(0.1, 0.6)) / count)
        held = rng.uniform(0.12, max(0.13, min(0.45, 0.3 * seconds / count)))  # never overlaps the next press
        button = str(int(rng.integers(0, 2)))
        out.append(_Msg(t0_ns + int(start * 1e9), 3, "BTN", [button, "down"]))
        out.append(_Msg(t0_ns + int((start + held) * 1e9), 3, "BTN", [button, "up"]))
    return out


def serial_lines(rng: np.random.Generator, t0_ns: int, seconds: float) -> list[str]:
    """``<tNs> <raw line>`` records sorted by receive time, with one sequence counter over all types."""
    msgs = _imu(rng, t0_ns, seconds) + _housekeeping(rng, t0_ns, seconds) + _buttons(rng, t0_ns, seconds)
    end_ns = t0_ns + int(seconds * 1e9)
    msgs = sorted((m for m in msgs if m.t_ns < end_ns), key=lambda m: (m.t_ns, m.order))
    return [f"{m.t_ns} {format_line(m.kind, i % 65536, m.fields)}" for i, m in enumerate(msgs)]
