"""Read the wearer's answered labels that ``glance labels export FILE`` wrote (schema ``glance.labels/1``).

Each label says which stored record it is about (``kind``: snippet, emotionship, face, person; ``id``), what
was asked, the options in the model's class order, the answer and its index, the model version the question
was about, and what the model believed when it asked (``probabilities``), so retraining can weigh it
(``query_probability``: the queue's probability of asking, for importance weighting). Emotion labels also carry
their record's ``features`` (the model version, its ``embedding`` at the episode's peak and the population
``logits``), so a head can be fitted on the wearer's answers without the frames.

    labels = load_labels("labels.json")
    by_kind = {k: [l for l in labels if l.kind == k] for k in {l.kind for l in labels}}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = "glance.labels/1"


@dataclass(frozen=True)
class AnsweredLabel:
    request_id: str
    kind: str
    target_id: str
    question: str
    options: tuple[str, ...]
    answer: str
    answer_index: int
    probabilities: tuple[float, ...]
    model: str | None
    criterion: str
    query_probability: float
    asked_ms: int
    answered_ms: int
    answered_by: str | None
    features: RecordFeatures | None = None


@dataclass(frozen=True)
class RecordFeatures:
    """An emotion record's model outputs at its peak: comparable only within one ``model`` version."""

    model: str
    embedding: tuple[float, ...]
    logits: tuple[float, ...]


def load_labels(path: str | Path) -> list[AnsweredLabel]:
    """Every answered label in the file; a file that is not a labels export raises ValueError naming why."""
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read a labels file: {error}") from None
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        found = raw.get("schema") if isinstance(raw, dict) else None
        raise ValueError(f"{path}: not a {SCHEMA} file (schema {found!r})")
    return [_label(item, i, path) for i, item in enumerate(raw.get("labels", []))]


def _label(item: dict[str, Any], i: int, path: str | Path) -> AnsweredLabel:
    where = f"{path}: labels[{i}]"
    try:
        options = tuple(str(o) for o in item["options"])
        answer, index = str(item["answer"]), int(item["answerIndex"])
        probs = tuple(float(p) for p in item["probabilities"])
        label = AnsweredLabel(
            request_id=str(item["requestId"]),
            kind=str(item["target"]["kind"]),
            target_id=str(item["target"]["id"]),
            question=str(item["question"]),
            options=options,
            answer=answer,
            answer_index=index,
            probabilities=probs,
            model=item.get("model"),
            criterion=str(item["criterion"]),
            query_probability=float(item["queryProbability"]),
            asked_ms=int(item["askedAt"]),
            answered_ms=int(item["answeredAt"]),
            answered_by=item.get("answeredBy"),
            features=_features(item.get("features")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{where}: malformed ({error!r})") from None
    if label.features is not None and len(label.features.logits) != len(options):
        raise ValueError(f"{where}: features.logits must be one per option")
    if not 0 <= index < len(options) or options[index] != answer:
        raise ValueError(f"{where}: answer {answer!r} is not option {index} of {list(options)}")
    if len(probs) != len(options) or not all(math.isfinite(p) and 0 <= p <= 1 for p in probs):
        raise ValueError(f"{where}: probabilities must be one per option, each in [0, 1]")
    return label


def _features(raw: Any) -> RecordFeatures | None:
    if raw is None:
        return None
    return RecordFeatures(
        model=str(raw["model"]),
        embedding=tuple(float(v) for v in raw["embedding"]),
        logits=tuple(float(v) for v in raw["logits"]),
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m glance_train.active.labels_file FILE``: a summary (count per kind and answer) as JSON."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m glance_train.active.labels_file FILE", file=sys.stderr)
        return 2
    try:
        labels = load_labels(args[0])
    except ValueError as error:
        print(f"labels: {error}", file=sys.stderr)
        return 2
    counts: dict[str, dict[str, int]] = {}
    for lab in labels:
        counts.setdefault(lab.kind, {}).setdefault(lab.answer, 0)
        counts[lab.kind][lab.answer] += 1
    print(json.dumps({"labels": len(labels), "byKind": counts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
