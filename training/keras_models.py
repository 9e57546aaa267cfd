"""The two Keras digit networks, trained with a validation split and exported to TFLite."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from training.learning_curves import epoch_curve
from training.plots import training_history_plot
from training.spec import Array, Dataset, ModelSpec, Trained

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

SEED = 42
VALIDATION_FRACTION = 1 / 12  # 5,000 of the 60,000 training images
EPOCHS = {"mlp": 12, "cnn": 12}
LEARNING_RATE = {"mlp": 1e-3, "cnn": 2e-3}
BATCH_SIZE = 128


def deterministic() -> None:
    """Seeded and deterministic TensorFlow ops: the same command on the same data gives the
    same weights and metrics (README, Reproducibility, says what it costs)."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


def _build(algorithm: str, steps: int) -> Any:
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28), name="pixels")  # raw 0-255, as served
    scaled = layers.Rescaling(1 / 255)(inputs)
    if algorithm == "mlp":
        hidden = layers.Dense(128, activation="relu")(layers.Flatten()(scaled))
    else:
        # Two small conv blocks: ~2.4 M multiply-adds an image, a few seconds an epoch per core.
        hidden = layers.Reshape((28, 28, 1))(scaled)
        for filters in (32, 64):
            hidden = layers.Conv2D(filters, 3, use_bias=False)(hidden)
            hidden = layers.BatchNormalization()(hidden)
            hidden = layers.Activation("relu")(hidden)
            hidden = layers.MaxPooling2D()(hidden)
        hidden = layers.Dropout(0.3)(layers.Flatten()(hidden))
        hidden = layers.Dense(128, activation="relu")(hidden)
        hidden = layers.Dropout(0.3)(hidden)
    outputs = layers.Dense(10, activation="softmax", name="probabilities")(hidden)
    model = keras.Model(inputs, outputs, name=f"mnist_{algorithm}")
    # Cosine decay to zero over the run: the last epochs settle instead of bouncing around.
    schedule = keras.optimizers.schedules.CosineDecay(LEARNING_RATE[algorithm], steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def to_tflite(model: Any) -> bytes:
    """A float32 TFLite flatbuffer with a dynamic batch dimension."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    # The converter prints a summary of the traced function to stdout: keep the CLI's output clean.
    with contextlib.redirect_stdout(io.StringIO()):
        return bytes(converter.convert())


def tflite_predict(flatbuffer: bytes, batch: Array) -> Array:
    """Run the exported model with the LiteRT interpreter the server uses."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=flatbuffer)
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(source["index"], [len(batch), 28, 28])
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], batch.reshape(-1, 28, 28).astype(np.float32))
    interpreter.invoke()
    return np.asarray(interpreter.get_tensor(target["index"]), dtype=np.float64)


def tflite_io(flatbuffer: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    """The export's input tensor (name, type, per-row shape) and its output, by role."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=flatbuffer)
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    tensor = {
        "name": str(source["name"]),
        "type": np.dtype(source["dtype"]).name,
        "shape": [int(d) for d in source["shape_signature"][1:]],
    }
    return tensor, {"probabilities": str(target["name"])}


def export_agreement(keras_proba: Array, tflite_proba: Array) -> dict[str, float]:
    """How closely the TFLite export reproduces the Keras model on the same images."""
    return {
        "label_agreement": round(
            float((keras_proba.argmax(1) == tflite_proba.argmax(1)).mean()), 6
        ),
        "max_abs_probability_diff": float(np.abs(keras_proba - tflite_proba).max()),
    }


def train(algorithm: str, data: Dataset, quick: bool) -> Trained:
    """Fit with a held-out validation split of the training images; keep the epoch history."""
    import keras
    from tqdm.keras import TqdmCallback

    keras.utils.set_random_seed(SEED)
    deterministic()
    images = data.train_features.reshape(-1, 28, 28)
    order = np.random.default_rng(SEED).permutation(len(images))
    n_validation = int(len(images) * VALIDATION_FRACTION)
    validation, fit = order[:n_validation], order[n_validation:]
    epochs = 1 if quick else EPOCHS[algorithm]
    model = _build(algorithm, steps=epochs * -(-len(fit) // BATCH_SIZE))
    history = model.fit(
        images[fit],
        data.train_targets[fit],
        validation_data=(images[validation], data.train_targets[validation]),
        epochs=epochs,
        batch_size=BATCH_SIZE,
        verbose=0,
        callbacks=[TqdmCallback(verbose=0, desc=f"mnist-{algorithm} epochs", leave=False)],
    )
    curves = {key: [float(v) for v in values] for key, values in history.history.items()}
    flatbuffer = to_tflite(model)

    def predict_proba(batch: Array) -> Any:
        return np.asarray(model(batch.reshape(-1, 28, 28), training=False), dtype=np.float64)

    test_images = data.test_features
    agreement = export_agreement(
        predict_proba(test_images), tflite_predict(flatbuffer, test_images)
    )

    def write_files(folder: Path) -> None:
        model.save(folder / "model.keras")
        (folder / "model.tflite").write_bytes(flatbuffer)
        training_history_plot(folder / "training_history.png", curves, f"mnist-{algorithm}")

    tensor, outputs = tflite_io(flatbuffer)
    return Trained(
        predict_proba,
        write_files,
        params={
            "epochs": epochs,
            "batch_size": BATCH_SIZE,
            "optimizer": "adam, cosine decay",
            "learning_rate": LEARNING_RATE[algorithm],
            "validation_images": int(n_validation),
            "parameters": int(model.count_params()),
        },
        artifact="model.tflite",
        extra_metrics={"history": curves, "tflite_export": agreement},
        learning_curve=lambda: epoch_curve(curves),
        tensor=tensor,
        outputs=outputs,
    )


def _spec(algorithm: str, floor: float) -> ModelSpec:
    return ModelSpec(
        name=f"mnist-{algorithm}",
        dataset="mnist",
        algorithm=algorithm,
        framework="keras",
        floor=floor,
        fit=lambda data, quick: train(algorithm, data, quick),
        seed=SEED,
    )


SPECS = [_spec("mlp", 0.975), _spec("cnn", 0.992)]
