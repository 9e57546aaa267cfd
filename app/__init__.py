"""The model server: loads the registry folder and serves it over HTTP."""
