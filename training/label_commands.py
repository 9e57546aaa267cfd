"""python -m training promote | labels | rollback: move a model's labels by hand."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training import labels

COMMANDS = ("promote", "labels", "rollback")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description="Labels point unpinned requests at a version: the server sends them to "
        "'production' when it exists, else to the newest version.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--registry-dir", type=Path, default=Path("models"), help="default: models/"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    promote = commands.add_parser("promote", parents=[common], help="point a label at a version")
    promote.add_argument("name")
    promote.add_argument("version", type=int)
    promote.add_argument("--label", default=labels.PRODUCTION)
    listing = commands.add_parser(
        "labels", parents=[common], help="current labels and their history"
    )
    listing.add_argument("name", nargs="?")
    rollback = commands.add_parser(
        "rollback",
        parents=[common],
        help="undo a label's last change: back to what it pointed at before",
    )
    rollback.add_argument("name")
    rollback.add_argument("--label", default=labels.PRODUCTION)
    return parser


def _show(model_root: Path) -> str:
    document = labels.read(model_root)
    lines = [f"{model_root.name}:"]
    for label, target in sorted(document["labels"].items()):
        lines.append(f"  {label:<12} -> {json.dumps(target)}")
    if not document["labels"]:
        lines.append("  (no labels: the newest version answers)")
    for entry in document["history"]:
        lines.append(
            f"    {entry['at']}  {entry['label']}: {json.dumps(entry['from'])} -> "
            f"{json.dumps(entry['to'])}  ({entry['by']})"
        )
    return "\n".join(lines)


def is_command(argv: list[str]) -> bool:
    """Whether `argv` asks for a label command (possibly after --registry-dir DIR)."""
    start = 2 if argv[:1] == ["--registry-dir"] else 0
    return len(argv) > start and argv[start] in COMMANDS


def main(argv: list[str]) -> int:
    if argv[:1] == ["--registry-dir"]:  # the option before the command, as for training
        argv = [*argv[2:3], *argv[:2], *argv[3:]]
    args = _parser().parse_args(argv)
    registry: Path = args.registry_dir
    try:
        if args.command == "labels":
            roots = [registry / args.name] if args.name else sorted(registry.iterdir())
            shown = [
                _show(root) for root in roots if root.is_dir() and labels.versions_on_disk(root)
            ]
            if args.name and not shown:
                raise labels.LabelError(f"no model {args.name!r} in {registry}")
            sys.stdout.write("\n".join(shown) + "\n")
            return 0
        root = registry / args.name
        if not labels.versions_on_disk(root):
            raise labels.LabelError(f"no model {args.name!r} in {registry}")
        if args.command == "promote":
            before = labels.change(
                root, args.label, {"version": args.version}, "python -m training promote"
            )
        else:
            target = labels.previous(root, args.label)
            before = labels.change(root, args.label, target, "python -m training rollback")
    except (labels.LabelError, OSError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    now = labels.read(root)["labels"][args.label]
    sys.stdout.write(f"{args.name}: {args.label} {json.dumps(before)} -> {json.dumps(now)}\n")
    return 0
