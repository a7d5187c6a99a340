"""Make the two bundled tiny-transformer models: fully-int8 TFLite files trained on sklearn's digits.

    python3.11 -m venv .venv-tf
    .venv-tf/bin/pip install tensorflow-cpu scikit-learn ai-edge-litert
    .venv-tf/bin/python tools/make_tiny_transformer.py [--out-dir edgeml/models] [--epochs 30]

Writes tiny_transformer_int8.tflite (feed-forward activation ReLU) and tiny_transformer_gelu_int8.tflite
(GELU). Each 8x8 digit is read as a sequence of 8 tokens (rows) of 8 features (pixels scaled to [0, 1]).
The model is one transformer encoder block: Dense projection to d_model=16 plus a learned position
embedding, MultiHeadAttention (2 heads, key_dim 12), residual add, LayerNormalization, Dense(64, act) ->
Dense(24), residual add, LayerNormalization, mean over tokens, Dense(10), softmax. The converted model has
a static batch of 1 and int8 input and output. Keras 3's LayerNormalization may leave a small float
island (DEQUANTIZE -> NEG -> QUANTIZE); that is kept on purpose. Prints per model the parameter count,
the float test accuracy, the op counts, the file size and the int8 test accuracy under LiteRT. The
bundled files were made with tensorflow-cpu 2.21.0 (Keras 3.15.1) and come out byte-identical on rerun.
"""

from __future__ import annotations

import argparse
import collections
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent
SEQ_LEN, FEATURES, D_MODEL, HEADS, KEY_DIM, D_FF, CLASSES = 8, 8, 24, 2, 12, 64, 10
REPRESENTATIVE_SAMPLES = 200
VARIANTS = {"tiny_transformer_int8.tflite": "relu", "tiny_transformer_gelu_int8.tflite": "gelu"}


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits as (N, 8, 8) float32 in [0, 1]; a fixed stratified 75/25 train/test split."""
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    return x_train, x_test, y_train, y_test


@tf.keras.utils.register_keras_serializable(package="edgeml")
class PositionEmbedding(tf.keras.layers.Layer):
    """Adds a learned (seq_len, d_model) table to every sequence, so the model knows which row is which."""

    def build(self, input_shape):
        self.table = self.add_weight(name="table", shape=tuple(input_shape[1:]), initializer="zeros")

    def call(self, x):
        return x + self.table


def build_model(activation: str, batch_size: int | None = None) -> tf.keras.Model:
    """One encoder block; layer names are fixed so weights move between batch sizes by name."""
    layers = tf.keras.layers
    inputs = layers.Input(shape=(SEQ_LEN, FEATURES), batch_size=batch_size, name="tokens")
    x = layers.Dense(D_MODEL, name="embed")(inputs)
    x = PositionEmbedding(name="position")(x)
    attention = layers.MultiHeadAttention(num_heads=HEADS, key_dim=KEY_DIM, name="attention")(x, x)
    x = layers.LayerNormalization(epsilon=1e-6, name="norm1")(layers.Add(name="residual1")([x, attention]))
    ff = layers.Dense(D_FF, activation=activation, name="ff1")(x)
    ff = layers.Dense(D_MODEL, name="ff2")(ff)
    x = layers.LayerNormalization(epsilon=1e-6, name="norm2")(layers.Add(name="residual2")([x, ff]))
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = layers.Dense(CLASSES, activation="softmax", name="classify")(x)
    return tf.keras.Model(inputs, outputs, name=f"tiny_transformer_{activation}")


def train(activation: str, data, epochs: int) -> tf.keras.Model:
    x_train, x_test, y_train, y_test = data
    tf.keras.utils.set_random_seed(0)
    model = build_model(activation)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, shuffle=True, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"  parameters: {model.count_params()}")
    print(f"  float test accuracy: {accuracy:.4f}")
    return model


def convert(model: tf.keras.Model, activation: str, representative: np.ndarray) -> bytes:
    """Full-integer conversion of a batch-1 copy of the trained model."""
    static = build_model(activation, batch_size=1)
    static.set_weights(model.get_weights())

    def samples():
        for sample in representative:
            yield [sample[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(static)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    try:
        return converter.convert()
    except Exception as exc:  # a float-only op (LayerNormalization's NEG island) needs the float builtins
        print(f"  int8-only conversion failed ({type(exc).__name__}); retrying with TFLITE_BUILTINS too")
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
        return converter.convert()


def op_counts(blob: bytes) -> collections.Counter[str]:
    interpreter = Interpreter(model_content=blob)
    return collections.Counter(op["op_name"] for op in interpreter._get_ops_details())


def int8_accuracy(blob: bytes, x_test: np.ndarray, y_test: np.ndarray) -> float:
    interpreter = Interpreter(model_content=blob)
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    scale, zero_point = inp["quantization"]
    correct = 0
    for x, y in zip(x_test, y_test, strict=True):
        q = np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)
        interpreter.set_tensor(inp["index"], q[None])
        interpreter.invoke()
        correct += int(np.argmax(interpreter.get_tensor(out["index"])[0]) == y)
    return correct / len(y_test)


def make(name: str, activation: str, data, out_dir: Path, epochs: int) -> None:
    print(f"{name} (feed-forward {activation})")
    x_train, x_test, _, y_test = data
    model = train(activation, data, epochs)
    blob = convert(model, activation, x_train[:REPRESENTATIVE_SAMPLES])
    path = out_dir / name
    path.write_bytes(blob)
    ops = ", ".join(f"{op} x{n}" for op, n in sorted(op_counts(blob).items()))
    print(f"  ops: {ops}")
    print(f"  wrote {path} ({len(blob)} bytes)")
    print(f"  int8 test accuracy: {int8_accuracy(blob, x_test, y_test):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "edgeml" / "models")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    tf.config.experimental.enable_op_determinism()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    print(f"TensorFlow {tf.__version__}, Keras {tf.keras.__version__}")
    data = load_data()
    for name, activation in VARIANTS.items():
        make(name, activation, data, args.out_dir, args.epochs)


if __name__ == "__main__":
    main()
