"""The emotion model's final layer inside its exported ONNX graph: ``logits = head(embedding)``, one Linear.

Checkpoints are not committed, so a retrained head is written into the ONNX itself. The exporter turns the
Linear into one ``Gemm`` (``embedding``, weight, bias → ``logits``; dropout vanishes at export), and other
exporters may write ``MatMul`` + ``Add``; both are found here. Anything else is refused: replacing a weight
we do not understand would silently change a different model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper


class HeadNotFound(ValueError):
    """The graph does not compute ``logits`` as one linear layer of the ``embedding`` output."""


@dataclass(frozen=True)
class OnnxHead:
    weight_name: str
    bias_name: str
    weight: np.ndarray
    """(classes, embedding), whatever the layout stored in the graph."""
    bias: np.ndarray
    stored_transposed: bool
    """True when the initializer is stored as (embedding, classes) (Gemm transB=0 or MatMul)."""


def _attr(node: onnx.NodeProto, name: str, default: float) -> float:
    for a in node.attribute:
        if a.name == name:
            return float(onnx.helper.get_attribute_value(a))
    return default


def find_head(model: onnx.ModelProto, embedding: str = "embedding", logits: str = "logits") -> OnnxHead:
    """The head's weight and bias; raises HeadNotFound naming what is missing or different."""
    graph = model.graph
    outputs = {o.name for o in graph.output}
    if embedding not in outputs or logits not in outputs:
        raise HeadNotFound(f"the graph's outputs {sorted(outputs)} lack {embedding!r} or {logits!r}")
    inits = {t.name: t for t in graph.initializer}
    producer = {out: n for n in graph.node for out in n.output}
    last = producer.get(logits)
    if last is None:
        raise HeadNotFound(f"no node produces {logits!r}")
    if last.op_type == "Gemm":
        if len(last.input) != 3 or last.input[0] != embedding:
            raise HeadNotFound(f"{last.name}: Gemm does not read {embedding!r} with a bias")
        scales = (_attr(last, "alpha", 1.0), _attr(last, "beta", 1.0), _attr(last, "transA", 0))
        if scales != (1.0, 1.0, 0):
            raise HeadNotFound(f"{last.name}: Gemm with alpha/beta/transA other than 1/1/0")
        transposed = _attr(last, "transB", 0) == 0
        w_name, b_name = last.input[1], last.input[2]
    elif last.op_type == "Add":
        mms = [producer[i] for i in last.input if i in producer and producer[i].op_type == "MatMul"]
        mm = mms[0] if mms else None
        if mm is None or mm.input[0] != embedding:
            raise HeadNotFound(f"{last.name}: Add is not MatMul({embedding!r}, W) + bias")
        b_name = next(i for i in last.input if i != mm.output[0])
        w_name, transposed = mm.input[1], True
    else:
        raise HeadNotFound(f"{logits!r} comes from {last.op_type} {last.name!r}, not a Gemm or MatMul+Add")
    if w_name not in inits or b_name not in inits:
        raise HeadNotFound(f"the head's weight {w_name!r} or bias {b_name!r} is not a constant of the graph")
    users = [n.name for n in graph.node if w_name in n.input]
    if len(users) != 1:
        raise HeadNotFound(f"the head's weight {w_name!r} is used by {len(users)} nodes, not only the head")
    w = numpy_helper.to_array(inits[w_name]).astype(np.float64)
    b = numpy_helper.to_array(inits[b_name]).astype(np.float64)
    w = w.T if transposed else w
    if w.ndim != 2 or b.shape != (w.shape[0],):
        raise HeadNotFound(f"head weight {w.shape} and bias {b.shape} do not make one Linear")
    return OnnxHead(w_name, b_name, w, b, transposed)


def with_head_weight(model: onnx.ModelProto, head: OnnxHead, weight: np.ndarray) -> onnx.ModelProto:
    """The model with the head weight (given as (classes, embedding)) replaced; nothing else changes."""
    if weight.shape != head.weight.shape:
        raise ValueError(f"new head weight {weight.shape}, the graph's is {head.weight.shape}")
    out = onnx.ModelProto()
    out.CopyFrom(model)
    stored = (weight.T if head.stored_transposed else weight).astype(np.float32)
    for t in out.graph.initializer:
        if t.name == head.weight_name:
            t.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(stored), head.weight_name))
    onnx.checker.check_model(out)
    return out
