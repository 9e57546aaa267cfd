"""The protocol-agnostic core: resolve a version, check a request, run it in bounded pools."""
