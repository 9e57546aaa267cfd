"""The HTTP front: ASGI dispatch, security headers, the httptools protocol, body limits."""
