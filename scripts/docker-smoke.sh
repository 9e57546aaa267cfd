#!/usr/bin/env bash
# Build the serving image and prove it the three ways it is run, through the published port:
#   mounted  a trained registry mounted read-only: HEALTHCHECK healthy, an Iris row and a digit PNG
#            predicted, then SIGTERM: a clean exit 0
#   empty    an empty registry: live (healthy) but not ready, and the log says why
#   baked    the registry baked into a derived image (Dockerfile.models), no mount: ready, predicting
# Each container runs as the Deployment runs it: read-only root filesystem, /tmp a tmpfs, no
# capabilities. Prints the image size, build time, seconds from `docker run` to healthy, and the
# memory of the mounted container with every model of the registry loaded.
#
#   scripts/docker-smoke.sh [REGISTRY_DIR]
#
# REGISTRY_DIR must hold iris-logistic-regression and mnist-cnn; by default a tiny one is trained
# with .venv (`make install`). Environment: PYTHON (default .venv/bin/python), DOCKER (default /usr/bin/docker, else docker on PATH),
# IMAGE (default modelserve:smoke), MNIST_DIR (the MNIST .gz files, for training and the digit).
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-$(if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else echo docker; fi)}
IMAGE=${IMAGE:-modelserve:smoke}
PYTHON=${PYTHON:-.venv/bin/python}
MNIST_DIR=${MNIST_DIR:-data/mnist}
export DOCKER_BUILDKIT=1 MNIST_DIR
HEALTHY_WITHIN_SECONDS=120
smoke=modelserve-smoke-$$  # container names: concurrent runs stay apart

work=$(mktemp -d)
containers=()
cleanup() {
  for name in "${containers[@]}"; do "$DOCKER" rm -f "$name" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

say() { echo "docker-smoke: $*"; }
fail() { echo "docker-smoke: FAILED: $*" >&2; exit 1; }
seconds_since() { awk -v start="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - start }'; }

# run NAME ARGS...: start a container from the given image and arguments, publishing port 8000 on
# a free loopback port, locked down like the Kubernetes Deployment.
run() {
  local name=$1; shift
  containers+=("$name")
  "$DOCKER" run -d --name "$name" -p 127.0.0.1::8000 \
    --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges "$@" >/dev/null
}

# wait_healthy NAME: until the image's own HEALTHCHECK says healthy; fail if it exits or takes too long.
wait_healthy() {
  local name=$1 status deadline=$((SECONDS + HEALTHY_WITHIN_SECONDS))
  while ((SECONDS < deadline)); do
    status=$("$DOCKER" inspect -f '{{.State.Status}} {{.State.Health.Status}}' "$name")
    case $status in
      "running healthy") return 0 ;;
      running*) sleep 0.2 ;;
      *) logs "$name" | tail -20; fail "$name is $status" ;;
    esac
  done
  logs "$name" | tail -20
  fail "$name not healthy within ${HEALTHY_WITHIN_SECONDS} s"
}

url() {
  local address
  address=$("$DOCKER" port "$1" 8000/tcp)
  echo "http://${address%%$'\n'*}$2"
}

# says TEXT STRING: whether STRING contains TEXT. A here-string, not a pipe into
# `grep -q`, which may exit before the writer is done: a SIGPIPE that pipefail calls a failure.
says() { grep -qF -- "$1" <<<"$2"; }
logs() { "$DOCKER" logs "$1" 2>&1; }

# expect STATUS NAME PATH [CURL ARGS...]: request PATH of container NAME, check the status, print the body.
expect() {
  local status=$1 name=$2 path=$3 body code; shift 3
  body=$(curl -sS --max-time 10 -o - -w '\n%{http_code}' "$@" "$(url "$name" "$path")")
  code=${body##*$'\n'}
  body=${body%$'\n'*}
  [ "$code" = "$status" ] || fail "$path answered $code, not $status: $body"
  echo "$body"
}

predict_both() {
  local name=$1
  local body
  body=$(expect 200 "$name" /v1/models/iris-logistic-regression/predict \
    -H 'Content-Type: application/json' -d '{"instances": [[5.1, 3.5, 1.4, 0.2]]}')
  says '"label":"setosa"' "$body" || fail "$name: the Iris row was not predicted setosa: $body"
  body=$(expect 200 "$name" /v1/models/mnist-cnn/predict/image -F "file=@$work/digit.png")
  says '"class_index":' "$body" || fail "$name: the digit PNG got no prediction: $body"
}

# stop_cleanly NAME: SIGTERM, then the container must exit 0 after shutting uvicorn down.
stop_cleanly() {
  local name=$1 code
  "$DOCKER" kill --signal TERM "$name" >/dev/null
  code=$(timeout 40 "$DOCKER" wait "$name") || fail "$name still running 40 s after SIGTERM"
  [ "$code" = 0 ] || fail "$name exited $code after SIGTERM"
  says "Finished server process" "$(logs "$name")" || fail "$name: no clean shutdown in its log"
}

registry=${1:-}
if [ -z "$registry" ]; then
  registry=$work/models
  say "training a tiny registry in $registry"
  "$PYTHON" -m training --quick --no-promote --registry-dir "$registry" \
    --model iris-logistic-regression --model mnist-cnn >"$work/training.log" 2>&1 \
    || { tail -20 "$work/training.log"; fail "training the tiny registry"; }
fi
registry=$(cd "$registry" && pwd)
"$PYTHON" -c "import sys; from pathlib import Path; from tests.helpers import mnist_digits, png_bytes; \
from PIL import Image; images, _ = mnist_digits(Path(sys.argv[1]), 1); \
Path(sys.argv[2]).write_bytes(png_bytes(Image.fromarray(images[0])))" "$MNIST_DIR" "$work/digit.png"

started=$EPOCHREALTIME
"$DOCKER" build -q -t "$IMAGE" . >/dev/null
build_seconds=$(seconds_since "$started")
image_size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')
say "built $IMAGE in $build_seconds s, $image_size"

say "mounted: $registry at /models, read-only"
started=$EPOCHREALTIME
run "$smoke-mounted" -v "$registry:/models:ro" "$IMAGE"
wait_healthy "$smoke-mounted"
healthy_seconds=$(seconds_since "$started")
ready=$(expect 200 "$smoke-mounted" /health/ready)
models=$(sed -n 's/.*"models_ready":\([0-9]*\).*/\1/p' <<<"$ready")
predict_both "$smoke-mounted"
memory=$("$DOCKER" stats --no-stream --format '{{.MemUsage}}' "$smoke-mounted" | cut -d/ -f1)
stop_cleanly "$smoke-mounted"
say "mounted: healthy ${healthy_seconds} s after docker run; ${memory% } with $models model versions loaded; SIGTERM -> exit 0"

say "empty: an empty registry"
mkdir "$work/empty"
run "$smoke-empty" -v "$work/empty:/models:ro" "$IMAGE"
wait_healthy "$smoke-empty"
says '"code":"not_ready"' "$(expect 503 "$smoke-empty" /health/ready)" \
  || fail "empty: /health/ready is not a not_ready error"
says "no model loaded from /models: live but not ready" "$(logs "$smoke-empty")" \
  || fail "empty: the log does not say why it is not ready"
stop_cleanly "$smoke-empty"
say "empty: live, /health/ready 503 not_ready, and the log says why"

say "baked: $registry built into $IMAGE-models"
"$DOCKER" build -q -f Dockerfile.models --build-arg "BASE_IMAGE=$IMAGE" -t "$IMAGE-models" "$registry" >/dev/null
run "$smoke-baked" "$IMAGE-models"
wait_healthy "$smoke-baked"
expect 200 "$smoke-baked" /health/ready >/dev/null
predict_both "$smoke-baked"
stop_cleanly "$smoke-baked"
say "baked: ready and predicting with no mount; SIGTERM -> exit 0"

say "passed: image $image_size, build ${build_seconds} s, healthy ${healthy_seconds} s after docker run, memory ${memory% } ($models models)"
