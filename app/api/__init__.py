"""FastAPI routes of the control plane: models, metadata, plots, health, metrics, admin."""
