"""What `edgeml plan` shows: figures, a verdict against a board, a per-op memory timeline (text,
HTML with an inline SVG, or PNG)."""

from __future__ import annotations

import html
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeml.errors import EdgemlError
from edgeml.plan.memory import MemoryPlan

# Until the firmware generator measures real code size, flash is estimated: the runtime core, each
# distinct kernel, and a call site with its constant parameters per op. Replaced by measured
# sizes once the C runtime exists.
RUNTIME_CODE_BYTES = 6 * 1024
KERNEL_CODE_BYTES = 2 * 1024
CALL_SITE_BYTES = 96


@dataclass(frozen=True)
class PeakOp:
    index: int
    name: str
    type: str


@dataclass(frozen=True)
class PlanSummary:
    model: str
    target: str
    arena_bytes: int
    ram_bytes: int
    lower_bound_bytes: int
    flash_bytes: int
    ram_budget_bytes: int
    flash_budget_bytes: int
    peak_op: PeakOp
    planner: str
    tflm_arena_bytes: int | None = None

    @property
    def fits(self) -> bool:
        return self.ram_bytes <= self.ram_budget_bytes and self.flash_bytes <= self.flash_budget_bytes

    def to_json(self) -> dict:
        out = {
            "model": self.model, "target": self.target, "arena_bytes": self.arena_bytes,
            "ram_bytes": self.ram_bytes, "lower_bound_bytes": self.lower_bound_bytes,
            "flash_bytes": self.flash_bytes, "fits": self.fits,
            "peak_op": {"index": self.peak_op.index, "name": self.peak_op.name, "type": self.peak_op.type},
            "ram_budget_bytes": self.ram_budget_bytes, "flash_budget_bytes": self.flash_budget_bytes,
            "planner": self.planner,
        }
        if self.tflm_arena_bytes is not None:
            out["tflm_arena_bytes"] = self.tflm_arena_bytes
        return out

    def verdict(self) -> str:
        if self.fits:
            return (f"fits {self.target}: RAM {self.ram_bytes:,} of {self.ram_budget_bytes:,} bytes, "
                    f"flash {self.flash_bytes:,} of {self.flash_budget_bytes:,} bytes")
        problems = []
        if self.ram_bytes > self.ram_budget_bytes:
            problems.append(f"RAM needs {self.ram_bytes:,} bytes, {self.ram_bytes - self.ram_budget_bytes:,} over "
                            f"the {self.ram_budget_bytes:,} available; the peak is at op #{self.peak_op.index} "
                            f"{self.peak_op.type} ({self.peak_op.name})")
        if self.flash_bytes > self.flash_budget_bytes:
            problems.append(f"flash needs {self.flash_bytes:,} bytes, "
                            f"{self.flash_bytes - self.flash_budget_bytes:,} over the {self.flash_budget_bytes:,} "
                            "available")
        return f"does not fit {self.target}: " + "; ".join(problems)


def flash_estimate(plan: MemoryPlan) -> int:
    graph = plan.graph
    kernels = {node.op for node in graph.nodes}
    return (graph.parameter_bytes() + RUNTIME_CODE_BYTES + KERNEL_CODE_BYTES * len(kernels)
            + CALL_SITE_BYTES * len(graph.nodes))


def peak_op(plan: MemoryPlan) -> PeakOp:
    node_index = plan.order[plan.peak_step]
    node = plan.graph.nodes[node_index]
    return PeakOp(index=node.origin if node.origin is not None else node_index, name=node.name,
                  type=node.source_op or node.op)


def summarize(plan: MemoryPlan, target: str, ram_budget: int, flash_budget: int,
              tflm_arena: int | None = None) -> PlanSummary:
    # All parameters are const (flash); the only RAM the model code needs is its arena.
    return PlanSummary(
        model=plan.graph.source_path, target=target, arena_bytes=plan.arena_bytes, ram_bytes=plan.arena_bytes,
        lower_bound_bytes=plan.lower_bound_bytes, flash_bytes=flash_estimate(plan), ram_budget_bytes=ram_budget,
        flash_budget_bytes=flash_budget, peak_op=peak_op(plan), planner=plan.placement.planner,
        tflm_arena_bytes=tflm_arena,
    )


def _rows(plan: MemoryPlan) -> list[tuple[int, str, int]]:
    graph = plan.graph
    rows = []
    for step, node_index in enumerate(plan.order):
        node = graph.nodes[node_index]
        rows.append((node.origin if node.origin is not None else node_index, node.source_op or node.op,
                     plan.live_bytes[step]))
    return rows


def timeline_text(plan: MemoryPlan, width: int = 40) -> str:
    peak = max(plan.live_bytes) or 1
    lines = [f"{'step':>4} {'op':>5}  {'type':<22}{'live bytes':>11}  "]
    for step, (index, kind, live) in enumerate(_rows(plan)):
        bar = "#" * max(1, round(width * live / peak)) if live else ""
        mark = "  <- peak" if step == plan.peak_step else ""
        lines.append(f"{step:>4} {index:>5}  {kind[:22]:<22}{live:>11,}  {bar}{mark}")
    return "\n".join(lines)


def write_report(plan: MemoryPlan, summary: PlanSummary, path: Path) -> None:
    """An HTML page (inline SVG) or a PNG bar chart of live bytes per op, by the file's extension."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        path.write_text(_html(plan, summary))
    elif suffix == ".png":
        path.write_bytes(_png(plan, summary))
    else:
        raise EdgemlError(f"{path}: report must be .html or .png")


def _html(plan: MemoryPlan, summary: PlanSummary) -> str:
    rows = _rows(plan)
    peak = max(plan.live_bytes) or 1
    bar_w, height = 14, 260
    svg_w = max(len(rows) * bar_w + 80, 400)
    bars = []
    for step, (index, kind, live) in enumerate(rows):
        h = height * live / peak
        color = "#c0392b" if step == plan.peak_step else "#2e86c1"
        bars.append(f'<rect x="{60 + step * bar_w}" y="{20 + height - h:.1f}" width="{bar_w - 2}" '
                    f'height="{h:.1f}" fill="{color}"><title>step {step}: op #{index} {html.escape(kind)}: '
                    f'{live:,} bytes</title></rect>')
    budget = summary.ram_budget_bytes
    budget_line = ""
    if budget <= peak * 1.5:
        y = 20 + height - height * min(budget, peak * 1.5) / peak
        budget_line = (f'<line x1="60" x2="{svg_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#000" stroke-dasharray="4"/>'
                       f'<text x="62" y="{y - 4:.1f}" font-size="11">{summary.target} budget</text>')
    table = "".join(f"<tr><td>{s}</td><td>{i}</td><td>{html.escape(k)}</td><td>{v:,}</td></tr>"
                    for s, (i, k, v) in enumerate(rows))
    figures = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                      for k, v in summary.to_json().items())
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>edgeml plan: {html.escape(Path(summary.model).name)}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:left}}</style></head>
<body><h1>{html.escape(Path(summary.model).name)} on {html.escape(summary.target)}</h1>
<p><b>{html.escape(summary.verdict())}</b></p>
<table>{figures}</table>
<h2>Live bytes per op</h2>
<svg width="{svg_w}" height="{height + 40}" xmlns="http://www.w3.org/2000/svg">
<text x="0" y="14" font-size="11">{peak:,} B</text>{''.join(bars)}{budget_line}</svg>
<table><tr><th>step</th><th>op</th><th>type</th><th>live bytes</th></tr>{table}</table>
</body></html>
"""


def _png(plan: MemoryPlan, summary: PlanSummary) -> bytes:
    """A small bar chart drawn into a pixel array and encoded as PNG with zlib (no plotting library)."""
    live = plan.live_bytes
    peak = max(live) or 1
    bar_w, height, margin = 8, 200, 10
    width = len(live) * bar_w + 2 * margin
    image = np.full((height + 2 * margin, width, 3), 255, np.uint8)
    for step, value in enumerate(live):
        h = round(height * value / peak)
        x0 = margin + step * bar_w
        color = (192, 57, 43) if step == plan.peak_step else (46, 134, 193)
        image[margin + height - h: margin + height, x0: x0 + bar_w - 1] = color
    image[margin + height, margin: width - margin] = 0
    raw = b"".join(b"\x00" + row.tobytes() for row in image)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, image.shape[0], 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
