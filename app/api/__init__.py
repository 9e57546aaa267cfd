"""HTTP routes: the only place that knows about requests and status codes."""
