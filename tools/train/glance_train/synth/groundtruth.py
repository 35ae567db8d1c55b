"""``groundtruth.json``: compact, columnar labels for a synthetic session."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

UNITS: dict[str, str] = {
    "time": "tUs, startUs, endUs: integer microseconds since t0Ns on the session's monotonic clock, "
    "rounded; the .ts files hold the exact ns. Per-stream arrays are in frame order, one entry per frame.",
    "eye": "eye-image pixels; pupil (cx, cy) centre, major/minor full axis lengths, angleDeg direction of "
    "the major axis from +x towards +y, i.e. cv2.ellipse(img, ((cx, cy), (major, minor), angleDeg)) draws it",
    "openness": "lid gap as a fraction of its relaxed opening (1 open, 0 closed)",
    "blink": "1 where openness < 0.25 (pupil not measurable); events.blinks spans the whole lid movement",
    "pupilVisible": "fraction of the pupil area not hidden by the lids",
    "gaze": "gazeX, gazeY: the true gaze point in undistorted scene pixels (both eyes converge on it at 1 m)",
    "scene": "bbox [x, y, w, h] in scene pixels of each object's drawing, clipped to the frame; visible: "
    "fraction of its silhouette in the frame and not occluded; attended: id of the object the wearer fixates "
    "or pursues, or -1",
    "events": "fixations (gaze still), pursuits (following a moving object), saccades, blinks; attention: a "
    "fixation or pursuit of one object lasting at least 0.8 s",
}


def rounded(value: Any, digits: int = 3) -> Any:
    """Round every float in a JSON-like tree: the file stays small and its bytes stay stable across runs."""
    if isinstance(value, (float, np.floating)):
        r = round(float(value), digits)
        return 0.0 if r == 0 else r  # no "-0.0"
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    return value


def write_json(path: Path, data: Any, compact: bool = True) -> None:
    """Compact for data files; indented (with number lists kept on one line) for files people read."""
    if compact:
        text = json.dumps(rounded(data), separators=(",", ":"))
    else:
        text = json.dumps(rounded(data), indent=2)
        one_line = lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]"  # noqa: E731
        text = re.sub(r"\[\s+([-0-9.eE,\s]+?)\s+\]", one_line, text)
    path.write_text(text + "\n", encoding="utf-8")
