"""A synthetic ``glance labels export`` file of emotion answers, for testing ``head_from_labels`` (no device).

The wearer's answers follow a shifted mapping of the embeddings: ``argmax((W + shift) e + b)`` where W, b are
the base model's head and ``shift`` is Gaussian noise scaled to W's spread, so the base model is right about
some answers and a refitted head can learn the rest. Embeddings are non-negative (the models' embedding ends
in a ReLU). Everything here is generated: it says nothing about real wearers.

    python -m glance_train.emotion.synthetic_answers --model models/zoo/emotion-ship/1.2.0 --out labels.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from glance_train.active.labels_file import SCHEMA
from glance_train.emotion.onnx_head import find_head


def synthetic_answers(model_dir: Path, count: int, seed: int, shift: float = 1.0) -> dict[str, Any]:
    manifest = json.loads((model_dir / "manifest.json").read_text())
    classes: list[str] = list(manifest["labels"]["logits"])
    head = find_head(onnx.load(str(model_dir / "model.onnx")))
    rng = np.random.default_rng(seed)
    true_w = head.weight + shift * head.weight.std() * rng.standard_normal(head.weight.shape)
    emb = np.maximum(rng.normal(1.0, 1.5, size=(count, head.weight.shape[1])), 0.0)
    logits = emb @ head.weight.T + head.bias
    answers = np.argmax(emb @ true_w.T + head.bias, axis=1)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    model = f"{manifest['name']}@{manifest['version']}"
    labels = [
        {
            "requestId": f"synthetic-{seed}-{i}",
            "target": {"kind": "emotionship", "id": f"rec-{i}"},
            "question": "How were you feeling here?",
            "options": classes,
            "answer": classes[int(answers[i])],
            "answerIndex": int(answers[i]),
            "probabilities": [float(p) for p in probs[i]],
            "model": model,
            "criterion": "entropy",
            "queryProbability": float(rng.uniform(0.05, 0.6)),
            "askedAt": 1000 * i,
            "answeredAt": 1000 * i + 500,
            "answeredBy": "phone",
            "features": {
                "model": model,
                "embedding": [float(v) for v in emb[i]],
                "logits": [float(v) for v in logits[i]],
            },
        }
        for i in range(count)
    ]
    return {"schema": SCHEMA, "labels": labels}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True, help="the base model directory")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--count", type=int, default=120)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shift", type=float, default=1.0)
    args = p.parse_args(argv)
    args.out.write_text(json.dumps(synthetic_answers(args.model, args.count, args.seed, args.shift)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
