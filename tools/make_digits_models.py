"""Train the bundled float example: a small CNN on scikit-learn's 8x8 digits (data that ships in the
package, nothing downloaded), saved as Keras, with calibration and held-out samples beside it.

    .venv/bin/python tools/make_digits_models.py             # needs the extras: pip install -e '.[keras]'
    .venv/bin/python tools/make_digits_models.py --onnx-only # re-export the ONNX twin of the bundled .keras
    .venv/bin/python tools/make_digits_models.py --transformer-only  # retrain only digits_transformer.keras

Writes edgeml/models/digits_cnn.keras, digits_calibration.npz (200 training images, under the model
input's name "image") and digits_test.npz (the 397 held-out images and their "labels"), then the same
network as a float ONNX model, digits_cnn.onnx (written here from the Keras weights: Conv, grouped
Conv for the depthwise layer, MaxPool, GlobalAveragePool, Gemm, Softmax; its input stays NHWC, as in
Keras, and a Transpose leads into NCHW); and a tiny transformer on the same data,
digits_transformer.keras: the image's 64 pixels embedded as 8 tokens of 24 features by one Dense layer
(which also gives each token its position), one encoder block (2-head self-attention, residual,
LayerNormalization, ReLU feed-forward 48, residual, LayerNormalization), mean over tokens, Dense(10),
Softmax. Seeded: the same run gives the same weights on the same TensorFlow build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

MODELS = Path(__file__).resolve().parent.parent / "edgeml" / "models"
SEED = 0


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    images = (data.images.astype(np.float32) / 16.0)[..., None]  # (1797, 8, 8, 1) in [0, 1]
    labels = data.target.astype(np.int64)
    order = np.random.default_rng(SEED).permutation(len(images))
    images, labels = images[order], labels[order]
    split = 1400
    return images[:split], labels[:split], images[split:], labels[split:]


def build(tf):
    layers = tf.keras.layers
    return tf.keras.Sequential([
        layers.Input((8, 8, 1), name="image"),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.DepthwiseConv2D(3, padding="same", activation="relu"),
        layers.Conv2D(32, 1, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10),
        layers.Softmax(),
    ], name="digits_cnn")


TOKENS, D_MODEL, HEADS, KEY_DIM, D_FF = 8, 24, 2, 12, 48


def build_transformer(tf):
    layers = tf.keras.layers
    image = layers.Input((8, 8, 1), name="image")
    x = layers.Reshape((64,))(image)
    x = layers.Dense(TOKENS * D_MODEL, name="embed")(x)  # per-token projection, position included
    x = layers.Reshape((TOKENS, D_MODEL))(x)
    attention = layers.MultiHeadAttention(num_heads=HEADS, key_dim=KEY_DIM, name="attention")(x, x)
    x = layers.LayerNormalization(epsilon=1e-6, name="norm1")(layers.Add()([x, attention]))
    ff = layers.Dense(D_FF, activation="relu", name="ff1")(x)
    ff = layers.Dense(D_MODEL, name="ff2")(ff)
    x = layers.LayerNormalization(epsilon=1e-6, name="norm2")(layers.Add()([x, ff]))
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dense(10, name="classify")(x)
    return tf.keras.Model(image, layers.Softmax()(x), name="digits_transformer")


def train_transformer(tf) -> None:
    tf.keras.utils.set_random_seed(SEED)
    x_train, y_train, x_test, y_test = digits()
    model = build_transformer(tf)
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=60, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    inference = build_transformer(tf)
    inference.set_weights(model.get_weights())
    path = MODELS / "digits_transformer.keras"
    inference.save(path)
    print(f"{path.name}: {path.stat().st_size:,} bytes, {model.count_params():,} parameters, float test accuracy "
          f"{accuracy:.4f} on {len(x_test)} images")


def export_onnx(keras_path: Path, onnx_path: Path) -> None:
    """The Keras digits CNN as a float ONNX graph with the same weights."""
    import onnx
    import tensorflow as tf
    from onnx import TensorProto, helper, numpy_helper

    model = tf.keras.models.load_model(keras_path, compile=False)
    nodes, initializers = [], []

    def const(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value.astype(np.float32)), name))
        return name

    current = "image_nchw"
    nodes.append(helper.make_node("Transpose", ["image"], [current], perm=[0, 3, 1, 2]))
    for index, layer in enumerate(model.layers):
        name = f"l{index}_{layer.name}"
        kind = type(layer).__name__
        if kind in ("Conv2D", "DepthwiseConv2D"):
            kernel, bias = layer.get_weights()
            size = kernel.shape[0]
            if kind == "Conv2D":
                weights, group = kernel.transpose(3, 2, 0, 1), 1  # HWIO -> OIHW
            else:
                weights, group = kernel.transpose(2, 3, 0, 1), kernel.shape[2]  # HW C 1 -> C 1 H W
            pad = (size - 1) // 2 if layer.padding == "same" else 0
            nodes.append(helper.make_node("Conv", [current, const(f"{name}/W", weights), const(f"{name}/B", bias)],
                                          [f"{name}/conv"], kernel_shape=[size, size], pads=[pad] * 4, group=group))
            nodes.append(helper.make_node("Relu", [f"{name}/conv"], [name]))
        elif kind == "MaxPooling2D":
            nodes.append(helper.make_node("MaxPool", [current], [name], kernel_shape=[2, 2], strides=[2, 2]))
        elif kind == "GlobalAveragePooling2D":
            nodes.append(helper.make_node("GlobalAveragePool", [current], [f"{name}/pool"]))
            nodes.append(helper.make_node("Flatten", [f"{name}/pool"], [name]))
        elif kind == "Dense":
            kernel, bias = layer.get_weights()
            nodes.append(helper.make_node("Gemm", [current, const(f"{name}/W", kernel), const(f"{name}/B", bias)],
                                          [name]))
        elif kind == "Softmax":
            nodes.append(helper.make_node("Softmax", [current], [name], axis=-1))
        else:
            raise SystemExit(f"export_onnx: no ONNX form for layer {layer.name} ({kind})")
        current = name
    nodes[-1].output[0] = "probabilities"
    graph = helper.make_graph(nodes, "digits_cnn", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                                  [1, 8, 8, 1])],
                              [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 10])],
                              initializers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8,
                                   producer_name="edgeml tools/make_digits_models.py")
    onnx.checker.check_model(onnx_model)
    onnx.save(onnx_model, onnx_path)
    _check_onnx_twin(model, onnx_path)


def _check_onnx_twin(model, onnx_path: Path) -> None:
    import onnxruntime as ort

    _, _, x_test, _ = digits()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst = max(float(np.abs(session.run(None, {"image": x[None]})[0] - model(x[None], training=False)).max())
                for x in x_test[:50])
    print(f"{onnx_path.name}: {onnx_path.stat().st_size:,} bytes, max |onnx - keras| {worst:.2e} on 50 images")
    if worst > 1e-4:
        raise SystemExit("the ONNX export does not compute what the Keras model computes")


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "--onnx-only" in sys.argv:
        export_onnx(MODELS / "digits_cnn.keras", MODELS / "digits_cnn.onnx")
        return
    import tensorflow as tf

    if "--transformer-only" in sys.argv:
        train_transformer(tf)
        return

    tf.keras.utils.set_random_seed(SEED)
    x_train, y_train, x_test, y_test = digits()
    model = build(tf)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.005), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=60, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    MODELS.mkdir(exist_ok=True)
    inference = build(tf)  # the weights alone: no optimizer state in the bundled file
    inference.set_weights(model.get_weights())
    inference.save(MODELS / "digits_cnn.keras")
    np.savez_compressed(MODELS / "digits_calibration.npz", image=x_train[:200])
    np.savez_compressed(MODELS / "digits_test.npz", image=x_test, labels=y_test)
    size = (MODELS / "digits_cnn.keras").stat().st_size
    print(f"digits_cnn.keras: {size:,} bytes, float test accuracy {accuracy:.4f} on {len(x_test)} images")
    export_onnx(MODELS / "digits_cnn.keras", MODELS / "digits_cnn.onnx")
    train_transformer(tf)


if __name__ == "__main__":
    main()
