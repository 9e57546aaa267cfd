"""What the server tells about itself: Prometheus metrics."""
