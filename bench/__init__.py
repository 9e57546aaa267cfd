"""The serving benchmark: real uvicorn servers on loopback, driven by wrk, reported against a floor."""
