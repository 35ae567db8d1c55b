"""head_from_labels: a head refit from (synthetic) wearer answers, written into the zoo model's ONNX."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from glance_train.emotion.head_from_labels import main, split
from glance_train.emotion.onnx_head import HeadNotFound, find_head, with_head_weight
from glance_train.emotion.synthetic_answers import synthetic_answers
from glance_train.golden import decode_tensor

BASE = Path(__file__).resolve().parents[3] / "models/zoo/emotion-ship/1.2.0"


def _labels(tmp_path: Path, doc: dict, name: str = "labels.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _run(labels: list[Path], out: Path, *extra: str) -> int:
    files = [str(f) for f in labels]
    return main(["--labels", *files, "--model", str(BASE), "--version", "1.2.1", "--out", str(out), *extra])


def test_refit_improves_held_out_answers_and_changes_only_the_head_weight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = synthetic_answers(BASE, count=160, seed=4, shift=1.5)
    snippet = {**doc["labels"][0], "target": {"kind": "snippet", "id": "s"}, "features": None}
    other = json.loads(json.dumps(doc["labels"][1]))
    other["features"]["model"] = "emotion-ship@1.1.0"
    doc["labels"] += [snippet, other]
    out = tmp_path / "m"
    assert _run([_labels(tmp_path, doc)], out) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["used"] == 160
    assert summary["skipped"] == {"kind snippet": 1, "features of emotion-ship@1.1.0": 1}
    assert summary["heldOutAccuracyAfter"] > summary["heldOutAccuracyBefore"]

    base, new = onnx.load(str(BASE / "model.onnx")), onnx.load(str(out / "model.onnx"))
    assert base.graph.node == new.graph.node
    assert base.graph.input == new.graph.input and base.graph.output == new.graph.output
    changed = [
        a.name
        for a, b in zip(base.graph.initializer, new.graph.initializer, strict=True)
        if a.name != b.name or not np.array_equal(numpy_helper.to_array(a), numpy_helper.to_array(b))
    ]
    assert changed == ["head.weight"]

    manifest = json.loads((out / "manifest.json").read_text())
    base_manifest = json.loads((BASE / "manifest.json").read_text())
    assert manifest["version"] == "1.2.1" and "signature" not in manifest
    assert manifest["dataset"]["synthetic"] == base_manifest["dataset"]["synthetic"]
    assert manifest["provenance"]["baseModel"] == "emotion-ship@1.2.0"
    golden = json.loads((out / "golden.json").read_text())
    base_golden = json.loads((BASE / "golden.json").read_text())
    assert golden["inputs"] == base_golden["inputs"]
    assert golden["outputs"]["embedding"] == base_golden["outputs"]["embedding"]
    head = find_head(new)
    emb = decode_tensor(golden["outputs"]["embedding"]).astype(np.float64)
    expected = (emb @ head.weight.T + head.bias).astype(np.float32)
    assert np.allclose(decode_tensor(golden["outputs"]["logits"]), expected, atol=1e-5)
    base_logits = decode_tensor(base_golden["outputs"]["logits"])
    assert not np.allclose(decode_tensor(golden["outputs"]["logits"]), base_logits)


def test_writes_nothing_when_the_refit_is_worse_on_held_out_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Held-out answers follow the base model exactly (it is perfect on them); the fit answers are the base's
    # class plus one, so a head fitted to them must get worse on the held-out ones.
    doc = synthetic_answers(BASE, count=40, seed=1, shift=0.0)
    fit_idx, _ = split(40, 0.3, 0)
    for i in fit_idx:
        lab = doc["labels"][i]
        k = (lab["answerIndex"] + 1) % 7
        lab["answerIndex"], lab["answer"] = k, lab["options"][k]
    out = tmp_path / "m"
    assert _run([_labels(tmp_path, doc)], out) == 1
    assert "nothing written" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "labels.json"]


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d.update(schema="other/1"), "not a glance.labels/1"),
        (lambda d: [x.update(target={"kind": "snippet", "id": "x"}) for x in d["labels"]], "no usable label"),
        (lambda d: [x["features"].update(model="emotion-ship@9") for x in d["labels"]], "no usable label"),
        (lambda d: d["labels"][0].update(options=[*"abcdefg"], answer="a", answerIndex=0), "differ from"),
    ],
)
def test_refuses_bad_labels_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: object, reason: str
) -> None:
    doc = synthetic_answers(BASE, count=10, seed=2)
    edit(doc)  # type: ignore[operator]
    out = tmp_path / "m"
    assert _run([_labels(tmp_path, doc)], out) == 2
    assert reason in capsys.readouterr().err
    assert not out.exists()


def test_refuses_a_graph_whose_logits_are_not_a_linear_head_of_the_embedding(tmp_path: Path) -> None:
    model = onnx.load(str(BASE / "model.onnx"))
    gemm = next(n for n in model.graph.node if n.output[0] == "logits")
    gemm.input[0] = gemm.input[0] + "_not"
    with pytest.raises(HeadNotFound, match="does not read 'embedding'"):
        find_head(model)


def test_refuses_an_existing_output_and_the_base_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _labels(tmp_path, synthetic_answers(BASE, count=10, seed=2))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "model.onnx").write_text("keep me")
    assert _run([labels], tmp_path / "full") == 2
    assert (tmp_path / "full" / "model.onnx").read_text() == "keep me"
    args = ["--labels", str(labels), "--model", str(BASE), "--version", "1.2.0", "--out", str(tmp_path / "m")]
    assert main(args) == 2
    assert "needs a new version" in capsys.readouterr().err


def test_finds_a_head_exported_as_matmul_plus_add() -> None:
    model = onnx.load(str(BASE / "model.onnx"))
    gemm_head = find_head(model)
    gemm = next(n for n in model.graph.node if n.output[0] == "logits")
    graph = model.graph
    graph.node.remove(gemm)
    graph.node.extend(
        [
            onnx.helper.make_node("MatMul", ["embedding", "w_t"], ["mm"]),
            onnx.helper.make_node("Add", ["mm", "head.bias"], ["logits"]),
        ]
    )
    graph.initializer.append(numpy_helper.from_array(gemm_head.weight.T.astype(np.float32), "w_t"))
    head = find_head(model)
    assert (head.weight_name, head.stored_transposed) == ("w_t", True)
    assert np.allclose(head.weight, gemm_head.weight)
    changed = with_head_weight(model, head, head.weight + 1.0)
    stored = next(t for t in changed.graph.initializer if t.name == "w_t")
    assert np.allclose(numpy_helper.to_array(stored), (gemm_head.weight + 1.0).T)
