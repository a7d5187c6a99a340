"""Firmware on an emulated Cortex-M: instructions per inference, flash overhead and RAM, bit-exact checked.

For each model: `edgeml verify` (convert, build with arm-none-eabi-gcc -O2, run under QEMU with
-icount shift=0, compare every output byte with the host runtime on N inputs), then a table of

- instructions per inference (median over the inputs; QEMU counts instructions, not cycles);
- MACs/2: the floor of an int8 kernel that retires two multiply-accumulates per SMLAD;
- the published Cortex-M4 latency of X-CUBE-AI 10.2 on NUCLEO-L4R5ZI at 120 MHz, as cycles (one
  cycle is at least one instruction on an M4, so instructions/cycles is a lower bound on the ratio
  of run times at equal clock and memory speed);
- flash: the image, the model's constants, and the rest (code, tables, vectors): the overhead;
- RAM: .data + .bss (arena, stack, buffers) and the arena alone.

    .venv/bin/python tools/bench_firmware.py [--models kws,vww,resnet8,ad01] [--target qemu-mps2-an386] [-n 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from zoo import WHOLE_MODELS, model_path

MLPERF = ["kws", "vww", "resnet8", "ad01"]
# X-CUBE-AI 10.2, NUCLEO-L4R5ZI (Cortex-M4 at 120 MHz), MLPerf Tiny int8 reference models, in ms.
XCUBE_AI_MS = {"kws": 43.4, "vww": 89.4, "resnet8": 165.7, "ad01": 4.79}
XCUBE_AI_HZ = 120e6


def bench(name: str, target: str, count: int, profile: bool) -> dict:
    from edgeml.api import load
    from edgeml.hil.verify import BudgetError, verify
    from edgeml.inspect import describe
    from edgeml.targets import load_board

    path = model_path(WHOLE_MODELS[name])
    board = load_board(target)
    row: dict = {"model": name, "macs": describe(load(path))["macs"]}
    started = time.monotonic()
    try:
        report = verify(path, board, "tflite", count, seed=0, profile=profile)
    except BudgetError as exc:
        row["error"] = str(exc)
        return row
    row.update({k: v for k, v in report.to_json().items() if k != "model"})
    row["wall_s"] = time.monotonic() - started
    row["op_ticks"] = report.op_ticks
    row["tick_scale"] = row["instructions_per_inference"] / max(row["ticks_per_inference"], 1)
    return row


def print_profile(row: dict, top: int) -> None:
    """The ops that cost the most instructions, grouped by op type and one by one."""
    ops = [(label, ticks * row["tick_scale"]) for label, ticks in row["op_ticks"]]
    total = sum(t for _, t in ops) or 1
    by_type: dict[str, float] = {}
    for label, instr in ops:
        kind = label.split()[2] if len(label.split()) > 2 else label  # "op #N TYPE (name)"
        by_type[kind] = by_type.get(kind, 0.0) + instr
    print(f"\n{row['model']}: instructions by op type")
    for kind, instr in sorted(by_type.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:<24} {instr:>14,.0f}  {100 * instr / total:5.1f}%")
    print(f"{row['model']}: the {top} costliest ops")
    for label, instr in sorted(ops, key=lambda kv: -kv[1])[:top]:
        short = label if len(label) <= 60 else label[:57] + "..."
        print(f"  {short:<60} {instr:>14,.0f}  {100 * instr / total:5.1f}%")


def fmt(value, spec: str = ",") -> str:
    return "-" if value is None else format(value, spec)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MLPERF), help=f"comma-separated, of {', '.join(WHOLE_MODELS)}")
    parser.add_argument("--target", default="qemu-mps2-an386")
    parser.add_argument("-n", dest="count", type=int, default=20, help="inputs per model (each verified)")
    parser.add_argument("--profile", type=int, default=0, metavar="TOP",
                        help="also print instructions per op type and the TOP costliest ops (one traced run)")
    args = parser.parse_args()
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in WHOLE_MODELS]
    if unknown:
        parser.error(f"unknown models: {', '.join(unknown)}")
    missing = [m for m in names if not model_path(WHOLE_MODELS[m]).exists()]
    for m in missing:
        print(f"skip {m}: {model_path(WHOLE_MODELS[m])} not found (set EDGEML_ZOO)", file=sys.stderr)
    rows = [bench(m, args.target, args.count, args.profile > 0) for m in names if m not in missing]

    print(f"\nfirmware on {args.target}, arm-none-eabi-gcc -O2, QEMU -icount shift=0, {args.count} inputs each")
    header = (f"{'model':<12} {'match':>7} {'MACs':>11} {'instr/inf':>12} {'instr/MAC':>9} {'/(MACs/2)':>9} "
              f"{'X-CUBE cyc':>11} {'/X-CUBE':>7} {'flash':>9} {'weights':>9} {'overhead':>9} {'RAM':>9} "
              f"{'arena':>9} {'stack':>6}")
    print(header)
    print("-" * len(header))
    failed = False
    for row in rows:
        if "error" in row:
            print(f"{row['model']:<12} does not fit: {row['error']}")
            continue
        instr = row["instructions_per_inference"]
        macs = row["macs"]
        xcube = XCUBE_AI_MS.get(row["model"])
        xcube_cycles = round(xcube * 1e-3 * XCUBE_AI_HZ) if xcube else None
        failed |= row["mismatched_inputs"] != 0
        match = f"{row['inputs'] - row['mismatched_inputs']}/{row['inputs']}"
        print(f"{row['model']:<12} {match:>7} {macs:>11,} {fmt(instr):>12} "
              f"{fmt(instr / macs if instr and macs else None, '.2f'):>9} "
              f"{fmt(instr / (macs / 2) if instr and macs else None, '.2f'):>9} {fmt(xcube_cycles):>11} "
              f"{fmt(instr / xcube_cycles if instr and xcube_cycles else None, '.2f'):>7} {row['flash_bytes']:>9,} "
              f"{row['weight_bytes']:>9,} {row['flash_bytes'] - row['weight_bytes']:>9,} {row['ram_bytes']:>9,} "
              f"{row['arena_bytes']:>9,} {fmt(row['stack_used_bytes']):>6}")
    for row in rows:
        if args.profile and row.get("op_ticks"):
            print_profile(row, args.profile)
    print("\ninstr/(MACs/2): 1.00 is the SMLAD floor. /X-CUBE: our instructions over X-CUBE-AI's published cycles.")
    print("overhead: flash beyond the model's constants (code, runtime, protocol, tables, vectors).")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
