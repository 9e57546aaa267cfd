"""python -m bench peers: the same imported pipeline served by us, MLServer and MLflow."""
