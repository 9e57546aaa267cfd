"""Loaders for the training data sets."""
