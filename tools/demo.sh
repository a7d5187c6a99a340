#!/usr/bin/env bash
# The main job, on the bundled models:
# 1. the int8 tiny transformer: bit-exact against both references on the host, its memory planned,
#    then converted to C, built for the default emulated board (QEMU mps2-an386, a Cortex-M4), run
#    there and compared byte for byte with the host over the serial protocol;
# 2. the float digits CNN (Keras): quantized to int8 on its calibration samples, int8 against float
#    on held-out digits, then the same firmware verification;
# 3. the same CNN as float ONNX: edgeml's own quantizer, int8 against float, the int8 QDQ model
#    bit-exact against onnxruntime on the host, then in C with onnxruntime's arithmetic on QEMU;
# 4. the bundled float Keras digits transformer: quantized, measured against float, verified on QEMU.
# Usage: bash tools/demo.sh [MODEL]   (MODEL replaces the transformer in step 1)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$EDGEML_ROOT"
export TF_CPP_MIN_LOG_LEVEL=3
model="${1:-edgeml/models/tiny_transformer_int8.tflite}"
target=qemu-mps2-an386
edgeml inspect "$model" | tail -n 1
edgeml compare "$model" --against tflite -n 100
edgeml compare "$model" --against tflm -n 100
edgeml plan "$model" --target "$target" --vs-tflm | tail -n 5
edgeml verify "$model" --target "$target" -n 20 -o "build/demo-$target"
echo "the C project is in build/demo-$target (rebuild it with make -C build/demo-$target)"

digits=edgeml/models/digits_cnn.keras
calibration=edgeml/models/digits_calibration.npz
edgeml quantize "$digits" --calibration "$calibration" --held-out edgeml/models/digits_test.npz \
    -o build/digits_cnn_int8.tflite
edgeml verify "$digits" --calibration "$calibration" --target "$target" -n 20 -o "build/demo-digits-$target"

onnx_digits=edgeml/models/digits_cnn.onnx
edgeml quantize "$onnx_digits" --calibration "$calibration" --held-out edgeml/models/digits_test.npz \
    -o build/digits_cnn_int8.onnx
edgeml compare build/digits_cnn_int8.onnx --against onnxruntime -n 100
edgeml verify build/digits_cnn_int8.onnx --target "$target" -n 20 -o "build/demo-digits-onnx-$target"

transformer=edgeml/models/digits_transformer.keras
edgeml quantize "$transformer" --calibration "$calibration" --held-out edgeml/models/digits_test.npz \
    -o build/digits_transformer_int8.tflite
edgeml verify "$transformer" --calibration "$calibration" --target "$target" -n 10 -o "build/demo-transformer-$target"
