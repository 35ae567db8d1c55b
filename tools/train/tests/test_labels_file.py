"""The loader for ``glance labels export`` files: good records load, anything else is refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glance_train.active.labels_file import SCHEMA, load_labels

ONE = {
    "requestId": "r1",
    "target": {"kind": "snippet", "id": "clip-1"},
    "question": "Was this moment worth keeping?",
    "options": ["yes", "no"],
    "answer": "no",
    "answerIndex": 1,
    "probabilities": [0.8, 0.2],
    "model": "tva@1.0.0",
    "criterion": "margin",
    "queryProbability": 0.21,
    "askedAt": 1000,
    "answeredAt": 2000,
    "answeredBy": "phone",
}


def _write(tmp_path: Path, payload: object) -> Path:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(payload))
    return path


def test_loads_answered_labels(tmp_path: Path) -> None:
    (label,) = load_labels(_write(tmp_path, {"schema": SCHEMA, "labels": [ONE]}))
    assert (label.kind, label.target_id, label.answer_index, label.probabilities) == ("snippet", "clip-1", 1, (0.8, 0.2))


def test_emotion_labels_carry_their_record_features(tmp_path: Path) -> None:
    classes = ["neutral", "happy", "sad", "angry", "fear", "surprise", "disgust"]
    emotion = {
        **ONE,
        "target": {"kind": "emotionship", "id": "rec-1"},
        "options": classes,
        "answer": "happy",
        "answerIndex": 1,
        "probabilities": [1 / 7] * 7,
        "features": {"model": "emotion-ship@1.0.0", "embedding": [0.5, -1.25], "logits": [0.0] * 7},
    }
    snippet, label = load_labels(_write(tmp_path, {"schema": SCHEMA, "labels": [ONE, emotion]}))
    assert snippet.features is None
    assert label.features is not None
    assert label.target_id == "rec-1"
    assert (label.features.model, label.features.embedding) == ("emotion-ship@1.0.0", (0.5, -1.25))
    short = {**emotion, "features": {"model": "emotion-ship@1.0.0", "embedding": [0.5], "logits": [0.0]}}
    with pytest.raises(ValueError, match="one per option"):
        load_labels(_write(tmp_path, {"schema": SCHEMA, "labels": [short]}))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"schema": "other/1", "labels": []}, "not a glance.labels/1"),
        ({"schema": SCHEMA, "labels": [{**ONE, "answerIndex": 0}]}, "is not option 0"),
        ({"schema": SCHEMA, "labels": [{**ONE, "probabilities": [0.8]}]}, "one per option"),
        ({"schema": SCHEMA, "labels": [{k: v for k, v in ONE.items() if k != "target"}]}, "malformed"),
    ],
)
def test_refuses_what_is_not_a_labels_export(tmp_path: Path, payload: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        load_labels(_write(tmp_path, payload))
