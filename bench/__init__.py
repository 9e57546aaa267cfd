"""The serving benchmark: real uvicorn servers on loopback, driven by wrk, against a floor."""
