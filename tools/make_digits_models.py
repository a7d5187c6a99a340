"""Train the bundled float example: a small CNN on scikit-learn's 8x8 digits (data that ships in the
package, nothing downloaded), saved as Keras, with calibration and held-out samples beside it.

    .venv/bin/python tools/make_digits_models.py      # needs the extras: pip install -e '.[keras]'

Writes edgeml/models/digits_cnn.keras, digits_calibration.npz (200 training images, under the model
input's name "image") and digits_test.npz (the 397 held-out images and their "labels"). Seeded: the
same run gives the same weights on the same TensorFlow build.
"""

from __future__ import annotations

import os
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


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

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


if __name__ == "__main__":
    main()
