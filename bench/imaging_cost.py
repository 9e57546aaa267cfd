"""python -m bench.imaging_cost: CPU seconds and peak memory of probe + preprocess on the worst
images of at most 10 MiB per format, each in a fresh process.

Memory is the rise of the peak RSS (VmHWM, reset first through /proc/self/clear_refs: ru_maxrss
would also count the parent that spawned the process).

`--module PATH` measures another copy of app/imaging/preprocess.py (say, an older one, from
git show).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from app.imaging.guard import MAX_JPEG_SCANS, MAX_WEBP_PIXELS
from bench import jpeg_bomb as bomb

SIDE = 5000  # 25 megapixels
BODY_BYTES = 10 * 1024 * 1024
WEBP_SIDE = math.isqrt(MAX_WEBP_PIXELS)


def _noise_jpeg(side: int, **options: object) -> bytes:
    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    return bomb.encode(Image.fromarray(noise), "JPEG", **options)


def _phone_photo() -> bytes:
    """A 4000x3000 photo of an MNIST test digit on paper (bench/digit_styles.py), JPEG q90."""
    import numpy as np

    from bench.digit_styles import mnist_test_split, photo
    from training.datasets.mnist import locate

    images, _ = mnist_test_split(locate())
    picture, _ = photo(images[0], np.random.default_rng(1), (4000, 3000))
    return bomb.encode(picture, "JPEG", quality=90)


def _bar(
    image_format: str, mode: str, size: int | tuple[int, int] = SIDE, **options: object
) -> Callable[[], bytes]:
    width, height = (size, size) if isinstance(size, int) else size
    return lambda: bomb.encode(bomb.bar(width, height, mode), image_format, **options)


CASES: dict[str, Callable[[], bytes]] = {
    "png 28x28": _bar("PNG", "L", 28),
    "jpeg 4032x3024 (phone)": _bar("JPEG", "RGB", (4032, 3024)),
    "jpeg 4000x3000 photo of a digit": _phone_photo,
    "png L": lambda: bomb.raw_png(SIDE, SIDE),
    "png RGB": lambda: bomb.raw_png(SIDE, SIDE, colour_type=2),
    "png RGBA": lambda: bomb.raw_png(SIDE, SIDE, colour_type=6),
    "png LA": lambda: bomb.raw_png(SIDE, SIDE, colour_type=4),
    "png P+tRNS": lambda: bomb.raw_png(SIDE, SIDE, colour_type=3),
    "png I;16": lambda: bomb.raw_png(SIDE, SIDE, bit_depth=16),
    "png RGBA 16-bit": lambda: bomb.raw_png(SIDE, SIDE, bit_depth=16, colour_type=6),
    "png RGBA 16-bit Adam7": lambda: bomb.raw_png(
        SIDE, SIDE, bit_depth=16, colour_type=6, interlaced=True
    ),
    "png 1x25M": lambda: bomb.raw_png(1, SIDE * SIDE),
    "png 381x65535": lambda: bomb.raw_png(381, 65535, colour_type=6),
    "png 25Mx1": lambda: bomb.raw_png(SIDE * SIDE, 1),
    "png chunk flood": lambda: bomb.chunk_flood_png(64, 800_000),
    "png iCCP flood": lambda: bomb.icc_flood_png(64, 9_000),
    "gif": _bar("GIF", "P"),
    "gif frame > screen": lambda: bomb.oversized_frame_gif(SIDE),
    "gif block flood": lambda: bomb.block_flood_gif(64, 5_000_000),
    "bmp 1-bit": _bar("BMP", "1"),
    "bmp 8-bit 10M": _bar("BMP", "L", 3200),
    "bmp RLE8": lambda: bomb.rle_bmp(SIDE, SIDE, rle4=False),
    "bmp RLE4": lambda: bomb.rle_bmp(SIDE, SIDE, rle4=True),
    "bmp RLE8 padded": lambda: bomb.rle_bmp(SIDE, SIDE, rle4=False, padded=True),
    "bmp RLE4 at limit": lambda: bomb.rle_bmp(1024, 1024, rle4=True),
    "bmp RLE8 padded at limit": lambda: bomb.rle_bmp(1024, 1024, rle4=False, padded=True),
    "webp lossless": _bar("WEBP", "RGB", lossless=True, method=0),
    "webp lossy": _bar("WEBP", "RGB", quality=50),
    "webp lossless at limit": _bar("WEBP", "RGB", WEBP_SIDE, lossless=True, method=0),
    "webp lossy at limit": _bar("WEBP", "RGB", WEBP_SIDE, quality=50),
    "jpeg 4:2:0": _bar("JPEG", "RGB"),
    "jpeg 4:4:4 q100": _bar("JPEG", "RGB", quality=100, subsampling=0),
    "jpeg grey": _bar("JPEG", "L"),
    "jpeg CMYK": _bar("JPEG", "CMYK"),
    "jpeg progressive 4:4:4": _bar("JPEG", "RGB", progressive=True, subsampling=0),
    "jpeg progressive CMYK": _bar("JPEG", "CMYK", progressive=True),
    "jpeg 65500x381": _bar("JPEG", "RGB", (65500, 381)),
    "jpeg noise 10 MB": lambda: _noise_jpeg(2880, quality=95),
    "jpeg noise 10 MB progressive": lambda: _noise_jpeg(3130, quality=95, progressive=True),
    "jpeg scan bomb 5000": lambda: bomb.scan_bomb_jpeg(4999, 5000),
    # 4:4:4 and the Cb refinement scan, the costliest copy (13 ms at 25 megapixels), to the limit.
    "jpeg scan bomb at limit": lambda: bomb.scan_bomb_jpeg(
        4999, MAX_JPEG_SCANS - 10, subsampling=0, scan=7
    ),
    "jpeg segment flood": lambda: bomb.segment_flood_jpeg(64, 2_500_000),
    "jpeg junk": lambda: bomb.junk_jpeg(64, 10_000_000),
}

# Runs in a fresh interpreter: argv is the module path, the image file and the pixel limit.
CHILD = """
import importlib.util, json, re, sys, time
def peak_kb():
    return int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read())[1])
from PIL import Image
spec = importlib.util.spec_from_file_location("imaging_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
Image.init()
warm = Image.new("L", (64, 64), 255)
warm.paste(0, (20, 10, 40, 50))
import io
buffer = io.BytesIO()
warm.save(buffer, "PNG")
module.preprocess(buffer.getvalue(), 10**6)
data = open(sys.argv[2], "rb").read()
limit = int(sys.argv[3])
# Reset the peak RSS to the current one: ru_maxrss would also count the parent that spawned us.
open("/proc/self/clear_refs", "w").write("5")
base = peak_kb()
start = time.process_time()
try:
    if hasattr(module, "probe"):
        module.probe(data, limit)
    module.preprocess(data, limit)
    outcome = "ok"
except Exception as exc:
    outcome = type(exc).__name__
cpu = time.process_time() - start
peak = (peak_kb() - base) / 1024
print(json.dumps({"cpu": cpu, "peak_mb": peak, "outcome": outcome}))
"""


def measure(module: Path, image: Path, limit: int) -> dict[str, object]:
    """probe + preprocess of one image in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(module), str(image), str(limit)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imaging_cost", description=__doc__)
    parser.add_argument("--module", type=Path, default=Path("app/imaging/preprocess.py"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/imaging_cases"))
    parser.add_argument("--limit", type=int, default=25_000_000, help="max_pixels passed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", action="append", metavar="TEXT")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    for name, make in CASES.items():
        if args.only and not any(text in name for text in args.only):
            continue
        image = args.cache / (name.replace(" ", "_").replace("/", "-") + ".bin")
        if not image.exists():
            image.write_bytes(make())
        size = image.stat().st_size
        runs = [measure(args.module, image, args.limit) for _ in range(args.rounds)]
        cpus = sorted(float(run["cpu"]) for run in runs)  # type: ignore[arg-type]
        peaks = sorted(float(run["peak_mb"]) for run in runs)  # type: ignore[arg-type]
        outcome = runs[0]["outcome"]
        flag = "" if size <= BODY_BYTES else " (over 10 MiB)"
        sys.stdout.write(
            f"{name:30} {size / 1e6:8.3f} MB  cpu {cpus[0]:6.3f}-{cpus[-1]:6.3f} s  "
            f"peak {peaks[0]:7.1f}-{peaks[-1]:7.1f} MB  {outcome}{flag}\n"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
