# The serving image: FastAPI + uvicorn over the registry mounted (or baked) at /models.
#   docker build -t modelserve .
#   docker run -p 8000:8000 -v "$PWD/models:/models:ro" modelserve
# Only the base dependencies of pyproject.toml go in: no TensorFlow (Keras models are served from
# their TFLite export by ai-edge-litert), no training or test extras.

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml ./
# The pinned list is read from pyproject.toml itself: no second list to keep in step. This layer
# is rebuilt when pyproject.toml changes, not when the code does. pip itself and the libraries'
# own test suites (65 MB) are not needed to serve.
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > requirements.txt \
 && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt \
 && /opt/venv/bin/pip uninstall --yes pip setuptools \
 && find /opt/venv -depth -type d -name tests -exec rm -rf {} +
COPY app/ ./app/
# Byte-code checked by hash, not mtime, so it stays valid after COPY on a read-only filesystem.
RUN python -m compileall -q --invalidation-mode checked-hash app

FROM python:3.11-slim AS runtime
# Every setting is a SERVING_* environment variable (app/settings.py), worker count included
# (SERVING_WORKERS: each worker loads every model).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SERVING_MODELS_DIR=/models \
    SERVING_HOST=0.0.0.0 \
    SERVING_PORT=8000 \
    SERVING_WORKERS=1 \
    SERVING_GRACEFUL_SHUTDOWN_SECONDS=20
COPY --from=builder /opt/venv /opt/venv
WORKDIR /srv
COPY --from=builder /src/app ./app
# A numeric user, so Kubernetes can check runAsNonRoot; nothing in the image is writable by it.
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('SERVING_PORT', '8000'), timeout=2)"]
# python -m app runs uvicorn in PID 1 (exec form): SIGTERM reaches it directly, it stops
# accepting, finishes the requests in flight (up to SERVING_GRACEFUL_SHUTDOWN_SECONDS) and exits 0.
CMD ["python", "-m", "app"]
