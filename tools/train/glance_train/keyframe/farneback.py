"""Reference flow for the device's dense flow: OpenCV's Farneback on real frame pairs from Debian's opencv-doc.

    /usr/bin/python3 -m glance_train.keyframe.farneback --out DIR [--width 160] [--repeat 20]

Writes, per pair, both grey frames downscaled to ``width`` (INTER_AREA, as the device does) as raw uint8, and
Farneback's flow (float32, interleaved dx, dy) between them; ``pairs.json`` lists them with Farneback's time per
pair. The device's flow is measured against these files (tests and ``glance bench --only schedulers``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

DATA = Path("/usr/share/doc/opencv-doc/examples/data")
# The parameters of OpenCV's own sample (samples/python/opt_flow.py).
FARNEBACK = {"pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5, "poly_sigma": 1.2}


def _grey(img: np.ndarray, width: int) -> np.ndarray:
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    height = round(img.shape[0] * width / img.shape[1])
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def real_pairs(width: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """basketball, rubberwhale, and three consecutive pairs of vtest.avi spread over the video."""
    pairs = []
    for name in ("basketball", "rubberwhale"):
        a, b = (cv2.imread(str(DATA / f"{name}{i}.png")) for i in (1, 2))
        if a is None or b is None:
            raise FileNotFoundError(f"{DATA}/{name}1.png or 2.png is missing (install opencv-doc)")
        pairs.append((name, _grey(a, width), _grey(b, width)))
    cap = cv2.VideoCapture(str(DATA / "vtest.avi"))
    frames = []
    for _ in range(302):
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(_grey(frame, width))
    cap.release()
    if len(frames) < 302:
        raise FileNotFoundError(f"{DATA}/vtest.avi is missing or short (install opencv-doc)")
    for i in (0, 150, 300):
        pairs.append((f"vtest{i}", frames[i], frames[i + 1]))
    return pairs


def farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(a, b, None, flags=0, **FARNEBACK)


def write_pairs(out: Path, width: int, repeat: int) -> dict[str, object]:
    cv2.setNumThreads(1)  # one core, like the device's flow
    out.mkdir(parents=True, exist_ok=True)
    listed = []
    for name, a, b in real_pairs(width):
        flow = farneback(a, b)
        t0 = time.perf_counter()
        for _ in range(repeat):
            farneback(a, b)
        ms = (time.perf_counter() - t0) / repeat * 1000
        (out / f"{name}.a.u8").write_bytes(a.tobytes())
        (out / f"{name}.b.u8").write_bytes(b.tobytes())
        (out / f"{name}.flow.f32").write_bytes(flow.astype("<f4").tobytes())
        listed.append({"name": name, "width": a.shape[1], "height": a.shape[0], "farnebackMs": ms})
    doc = {"params": FARNEBACK, "opencv": cv2.__version__, "pairs": listed}
    (out / "pairs.json").write_text(json.dumps(doc, indent=2) + "\n")
    return doc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="farneback", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--width", type=int, default=160)
    p.add_argument("--repeat", type=int, default=20, help="timed runs per pair")
    args = p.parse_args(argv)
    try:
        doc = write_pairs(args.out, args.width, args.repeat)
    except FileNotFoundError as error:
        print(f"farneback: {error}", file=sys.stderr)
        return 2
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
