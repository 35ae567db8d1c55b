"""Retrain an emotion model's final layer from the wearer's exported answers, without any frames.

    python -m glance_train.emotion.head_from_labels --labels labels.json [more.json …] \\
        --model models/zoo/emotion-ship/1.2.0 --version 1.2.1 --out DIR

Reads ``glance labels export`` files (``glance.labels/1``); uses the emotionship answers whose record
``features.model`` is the base model's name@version (their embedding is only comparable within that version).
Splits them (seeded) into fit and held-out answers, fits the head's weights (``answer_fit``: bias frozen,
class-mix and 1/query-probability weighted, pulled to the base), and writes DIR (model.onnx differing from
the base only in the head's weight, manifest.json unsigned — sign with ``glance sign`` — and golden.json) only
when held-out accuracy on the answers is not worse than the base's. Exit 2: bad input (nothing written);
exit 1: the refit did worse than the base on the held-out answers (nothing written).
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from glance_train.active.labels_file import AnsweredLabel, load_labels
from glance_train.emotion.answer_fit import AnswerFit, accuracy, answer_weights, fit_head_weights
from glance_train.emotion.onnx_head import HeadNotFound, find_head, with_head_weight
from glance_train.golden import decode_tensor
from glance_train.manifest import sha256_file

KIND = "emotionship"
VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")  # models/manifest.ts MODEL_VERSION


class Refused(Exception):
    """Bad input (exit 2)."""


class NotBetter(Exception):
    """The refit is worse than the base on the held-out answers (exit 1)."""


@dataclass(frozen=True)
class Answers:
    embeddings: np.ndarray
    classes: np.ndarray
    query_probability: np.ndarray
    skipped: dict[str, int]


def usable_answers(labels: list[AnsweredLabel], model: str, classes: list[str]) -> Answers:
    """The answers a head of ``model`` can learn from; the others counted by why they were skipped."""
    skipped: Counter[str] = Counter()
    kept: list[AnsweredLabel] = []
    for lab in labels:
        if lab.kind != KIND:
            skipped[f"kind {lab.kind}"] += 1
        elif lab.features is None:
            skipped["no features (record pruned before export)"] += 1
        elif lab.features.model != model:
            skipped[f"features of {lab.features.model}"] += 1
        elif list(lab.options) != classes:
            raise Refused(
                f"label {lab.request_id}: options {list(lab.options)} differ from {model}'s classes {classes}"
            )
        else:
            kept.append(lab)
    if not kept:
        raise Refused(
            f"no usable label: none is an {KIND} answer with features of {model} (skipped: {dict(skipped)})"
        )
    embeddings = [lab.features.embedding for lab in kept if lab.features is not None]
    dims = {len(e) for e in embeddings}
    if len(dims) != 1:
        raise Refused(f"embeddings of different lengths {sorted(dims)}")
    return Answers(
        embeddings=np.array(embeddings, dtype=np.float64),
        classes=np.array([lab.answer_index for lab in kept], dtype=np.int64),
        query_probability=np.array([lab.query_probability for lab in kept], dtype=np.float64),
        skipped=dict(skipped),
    )


def split(n: int, held_out: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    k = min(max(1, round(n * held_out)), n - 1)
    return np.sort(order[k:]), np.sort(order[:k])


def _encode(a: np.ndarray) -> dict[str, Any]:
    data = base64.b64encode(np.ascontiguousarray(a.astype("<f4")).tobytes()).decode()
    return {"dtype": "float32", "shape": list(a.shape), "data": data}


def new_golden(base_golden: dict[str, Any], weight: np.ndarray, bias: np.ndarray) -> dict[str, Any]:
    """The base's golden with ``logits`` recomputed from its ``embedding`` output and the new head."""
    out = copy.deepcopy(base_golden)
    if "embedding" not in out["outputs"] or "logits" not in out["outputs"]:
        raise Refused("the base golden.json has no embedding and logits outputs")
    emb = decode_tensor(out["outputs"]["embedding"]).astype(np.float64)
    out["outputs"]["logits"] = _encode(emb @ weight.T + bias)
    producer = base_golden.get("producer", "")
    out["producer"] = f"{producer}; logits: numpy, head refit from answers".lstrip("; ")
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    base_dir: Path = args.model
    out_dir: Path = args.out
    try:
        manifest = json.loads((base_dir / "manifest.json").read_text())
        base_model = onnx.load(str(base_dir / "model.onnx"))
        base_golden = json.loads((base_dir / "golden.json").read_text())
    except (OSError, ValueError) as error:
        raise Refused(f"{base_dir}: not a model directory ({error})") from None
    name = f"{manifest['name']}@{manifest['version']}"
    classes = list(manifest.get("labels", {}).get("logits", []))
    if not VERSION.match(args.version) or args.version == manifest["version"]:
        base_version = manifest["version"]
        raise Refused(f"--version {args.version!r}: needs a new version such as 1.2.1 (base: {base_version})")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise Refused(f"{out_dir} exists and is not empty: nothing is overwritten")
    try:
        head = find_head(base_model)
    except HeadNotFound as error:
        raise Refused(f"{base_dir}/model.onnx: {error}") from None
    if len(classes) != head.weight.shape[0]:
        raise Refused(f"manifest labels.logits has {len(classes)} classes, the head {head.weight.shape[0]}")
    labels: list[AnsweredLabel] = []
    for f in args.labels:
        try:
            labels += load_labels(f)
        except ValueError as error:
            raise Refused(str(error)) from None
    answers = usable_answers(labels, name, classes)
    if answers.embeddings.shape[1] != head.weight.shape[1]:
        got, want = answers.embeddings.shape[1], head.weight.shape[1]
        raise Refused(f"embeddings have {got} values, the head reads {want}")
    n = len(answers.classes)
    if n < 2:
        raise Refused(f"{n} usable answer: at least 2 are needed (one to fit, one held out)")
    fit_idx, held_idx = split(n, args.held_out, args.seed)
    fit = AnswerFit(epochs=args.epochs, l2_to_base=args.l2)
    weights = answer_weights(answers.classes[fit_idx], answers.query_probability[fit_idx], len(classes), fit)
    fx, fy = answers.embeddings[fit_idx], answers.classes[fit_idx]
    ex, ey = answers.embeddings[held_idx], answers.classes[held_idx]
    w = fit_head_weights(head.weight, head.bias, fx, fy, weights, fit)
    before, after = accuracy(head.weight, head.bias, ex, ey), accuracy(w, head.bias, ex, ey)
    summary: dict[str, Any] = {
        "base": name,
        "used": n,
        "skipped": answers.skipped,
        "fit": len(fit_idx),
        "heldOut": len(held_idx),
        "heldOutAccuracyBefore": before,
        "heldOutAccuracyAfter": after,
        "fitAccuracyBefore": accuracy(head.weight, head.bias, fx, fy),
        "fitAccuracyAfter": accuracy(w, head.bias, fx, fy),
        "perClass": {classes[c]: int(k) for c, k in sorted(Counter(answers.classes.tolist()).items())},
    }
    if after < before:
        raise NotBetter(f"held-out accuracy on the answers {after:.3f} < base {before:.3f}: nothing written")
    new_manifest = copy.deepcopy(manifest)
    new_manifest.pop("signature", None)
    new_manifest["version"] = args.version
    new_manifest["description"] = f"{manifest.get('description', '')}; head refit from the wearer's answers"
    new_manifest["metrics"] = {
        "heldOut": {"answers_accuracy": after, "answers_accuracy_base": before, "answers": len(held_idx)},
        "base": manifest.get("metrics", {}),
    }
    new_manifest["provenance"] = {
        "method": "glance_train.emotion.head_from_labels",
        "baseModel": name,
        "baseSha256": manifest.get("sha256"),
        "labels": [{"file": Path(f).name, "sha256": sha256_file(Path(f))} for f in args.labels],
        "counts": {k: summary[k] for k in ("used", "skipped", "fit", "heldOut", "perClass")},
        "heldOutAccuracy": {"before": before, "after": after},
        "fit": asdict(fit),
        "biasFrozen": True,
        "heldOutFraction": args.held_out,
        "seed": args.seed,
        "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "onnxVersion": onnx.__version__,
        "baseProvenance": manifest.get("provenance", {}),
    }
    # The dataset (and its synthetic flag) stays the base's: the answers only touch the head.
    golden = new_golden(base_golden, w, head.bias)
    _write(out_dir, with_head_weight(base_model, head, w), new_manifest, golden)
    return summary


def _write(out_dir: Path, model: onnx.ModelProto, manifest: dict[str, Any], golden: dict[str, Any]) -> None:
    """All three files into a temporary sibling, then one rename: a failure leaves no half-written model."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        onnx.save(model, str(tmp / "model.onnx"))
        (tmp / "golden.json").write_text(json.dumps(golden) + "\n")
        manifest["sha256"] = sha256_file(tmp / "model.onnx")
        manifest["bytes"] = (tmp / "model.onnx").stat().st_size
        manifest["golden"] = {"file": "golden.json", "sha256": sha256_file(tmp / "golden.json")}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if out_dir.exists():
            out_dir.rmdir()  # empty (checked above)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="head_from_labels", description=__doc__.splitlines()[0])
    p.add_argument("--labels", type=Path, nargs="+", required=True, help="glance labels export files")
    p.add_argument("--model", type=Path, required=True, help="the base model directory")
    p.add_argument("--version", required=True, help="the new model's version")
    p.add_argument("--out", type=Path, required=True, help="the new model directory (must not hold files)")
    p.add_argument("--held-out", type=float, default=0.3, help="share of the answers held out (0.3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=AnswerFit.epochs)
    p.add_argument("--l2", type=float, default=AnswerFit.l2_to_base, help="pull to the base weights")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        summary = run(args)
    except Refused as error:
        print(f"head_from_labels: {error}", file=sys.stderr)
        return 2
    except NotBetter as error:
        print(f"head_from_labels: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
