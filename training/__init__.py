"""Offline training: fit the Iris and MNIST classifiers into the versioned model registry."""


def publish(model: object, name: str, **options: object) -> object:
    """Import a fitted model from a notebook (training.publishing.publish)."""
    from training.publishing import publish as publish_model

    return publish_model(model, name, **options)  # type: ignore[arg-type]
