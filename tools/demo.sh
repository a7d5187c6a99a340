#!/usr/bin/env bash
# The main job: check a bundled model bit-exact against both references on the host, plan its memory,
# then convert it to C, build the firmware for the default emulated board (QEMU mps2-an386, a
# Cortex-M4), run it there and compare every output byte with the host over the serial protocol.
# Usage: bash tools/demo.sh [MODEL]   (default: the bundled tiny transformer, made by tools/)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$EDGEML_ROOT"
model="${1:-edgeml/models/tiny_transformer_int8.tflite}"
target=qemu-mps2-an386
edgeml inspect "$model" | tail -n 1
edgeml compare "$model" --against tflite -n 100
edgeml compare "$model" --against tflm -n 100
edgeml plan "$model" --target "$target" --vs-tflm | tail -n 5
edgeml verify "$model" --target "$target" -n 20 -o "build/demo-$target"
echo "the C project is in build/demo-$target (rebuild it with make -C build/demo-$target)"
