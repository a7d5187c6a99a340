"""What `edgeml inspect` reports about a graph."""

from __future__ import annotations

from edgeml.ir.graph import Graph
from edgeml.ops.base import Numerics, OpContext
from edgeml.ops.registry import REGISTRY


def _quant(tensor) -> dict | None:
    q = tensor.quant
    if q is None:
        return None
    return {"scale": [float(s) for s in q.scale], "zero_point": [int(z) for z in q.zero_point], "axis": q.axis}


def describe(graph: Graph) -> dict:
    ops = []
    total_macs = 0
    for index, node in enumerate(graph.nodes):
        spec = REGISTRY.get(node.op)
        macs = spec.macs(OpContext(graph, node, Numerics.TFLITE)) if spec else 0
        total_macs += macs
        ops.append({
            "index": node.origin if node.origin is not None else index, "type": node.source_op or node.op,
            "op": node.op, "name": node.name, "inputs": node.inputs, "outputs": node.outputs, "macs": macs,
        })
    tensors = [
        {"index": i, "name": t.name, "shape": list(t.shape), "dtype": t.dtype.value, "kind": t.kind.value,
         "bytes": t.nbytes, "quantization": _quant(t)}
        for i, t in enumerate(graph.tensors)
    ]
    return {
        "model": graph.source_path, "sha256": graph.source_hash, "inputs": graph.inputs, "outputs": graph.outputs,
        "ops": ops, "tensors": tensors, "parameter_bytes": graph.parameter_bytes(), "macs": total_macs,
    }


def format_text(info: dict) -> str:
    tensors = info["tensors"]

    def sig(index: int) -> str:
        t = tensors[index]
        return f"{t['dtype']}{t['shape']}"

    lines = [f"model {info['model']}", f"sha256 {info['sha256']}",
             "inputs  " + ", ".join(f"{tensors[i]['name']} {sig(i)}" for i in info["inputs"]),
             "outputs " + ", ".join(f"{tensors[i]['name']} {sig(i)}" for i in info["outputs"]), "",
             f"{'#':>4}  {'op':<20} {'output':<28} {'MACs':>12}"]
    for op in info["ops"]:
        out = sig(op["outputs"][0]) if op["outputs"] else "-"
        lines.append(f"{op['index']:>4}  {op['type']:<20} {out:<28} {op['macs']:>12,}")
    lines += ["", f"{'#':>4}  {'tensor':<40} {'dtype':<8} {'shape':<20} {'kind':<10} {'bytes':>9}  quantization"]
    for t in tensors:
        q = t["quantization"]
        qs = "-" if q is None else (
            f"scale={q['scale'][0]:.6g} zp={q['zero_point'][0]}" if len(q["scale"]) == 1
            else f"per-channel axis={q['axis']} x{len(q['scale'])}")
        lines.append(f"{t['index']:>4}  {t['name'][:40]:<40} {t['dtype']:<8} {t['shape']!s:<20} {t['kind']:<10} "
                     f"{t['bytes']:>9,}  {qs}")
    lines += ["", f"parameters {info['parameter_bytes']:,} bytes, {info['macs']:,} MACs"]
    return "\n".join(lines)
