"""Offline training: fit the Iris and MNIST classifiers into the versioned model registry."""
