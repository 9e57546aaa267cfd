"""The `modelserve` command: one entry point that runs the server, training or the benchmark."""
