#!/usr/bin/env bash
# The main job: convert a bundled model, check it bit-exact against both references, and plan its
# memory for the default (emulated) board.
# Usage: bash tools/demo.sh [MODEL]   (default: the bundled tiny transformer, made by tools/)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$EDGEML_ROOT"
model="${1:-edgeml/models/tiny_transformer_int8.tflite}"
edgeml inspect "$model" | tail -n 1
edgeml compare "$model" --against tflite -n 100
edgeml compare "$model" --against tflm -n 100
edgeml plan "$model" --target qemu-mps2-an386 --vs-tflm | tail -n 5
