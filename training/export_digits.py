"""python -m training.export_digits OUT_DIR: save MNIST test digits as PNG files to try the API."""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from training.datasets import mnist


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.export_digits",
        description="Write the first COUNT MNIST test images as OUT_DIR/<index>-<label>.png "
        "(28x28 greyscale, white ink on black, as in MNIST).",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument(
        "--mnist-dir",
        type=Path,
        default=None,
        help=f"the MNIST folder (default: ${mnist.ENV_VAR}, then data/mnist/)",
    )
    args = parser.parse_args(argv)
    data = mnist.load(mnist.locate(args.mnist_dir), limit_train=0, limit_test=args.count)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for index, (image, label) in enumerate(zip(data.test_images, data.test_labels, strict=True)):
        Image.fromarray(image).save(args.out_dir / f"{index:05d}-{label}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
