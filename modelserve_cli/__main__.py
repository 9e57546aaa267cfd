"""python -m modelserve_cli, the same as `modelserve`."""

from modelserve_cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
