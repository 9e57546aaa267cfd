"""The README's shell examples: parsed from its fenced blocks, and their output masked where it
varies from run to run, for tests/test_readme.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^( *)```(\w*)\s*$")


@dataclass(frozen=True)
class Command:
    """One command of the README: `$ `-prompted with the lines it printed, or from an `sh` block
    (then `expected` is None: nothing printed is shown)."""

    line: int
    text: str
    expected: str | None


@dataclass(frozen=True)
class Block:
    line: int
    commands: tuple[Command, ...]


def _joined(lines: list[tuple[int, str]], start: int) -> tuple[str, int]:
    """The command starting at lines[start], with its backslash-continued lines; the next index."""
    text = lines[start][1]
    index = start + 1
    while text.endswith("\\") and index < len(lines):
        text = text + "\n" + lines[index][1]
        index += 1
    return text, index


def _commands(lines: list[tuple[int, str]], language: str) -> list[Command]:
    commands: list[Command] = []
    index = 0
    while index < len(lines):
        number, line = lines[index]
        if language == "sh":
            if not line.strip() or line.lstrip().startswith("#"):
                index += 1
                continue
            text, index = _joined(lines, index)
            commands.append(Command(number, text, None))
        elif line.startswith("$ "):
            text, index = _joined([(n, s.removeprefix("$ ")) for n, s in lines], index)
            output: list[str] = []
            while index < len(lines) and not lines[index][1].startswith("$ "):
                output.append(lines[index][1])
                index += 1
            commands.append(Command(number, text, "\n".join(output)))
        else:
            index += 1
    return commands


def parse(readme: Path) -> list[Block]:
    """Every fenced block holding commands: `sh` blocks (each line a command) and `console` or
    unlabelled blocks (`$ ` lines, each followed by its output)."""
    blocks: list[Block] = []
    fence: tuple[int, str, str] | None = None  # line, indent, language
    body: list[tuple[int, str]] = []
    for number, line in enumerate(readme.read_text().splitlines(), start=1):
        match = FENCE.match(line)
        if fence is None and match:
            fence, body = (number, match.group(1), match.group(2)), []
        elif fence is not None and match and match.group(1) == fence[1]:
            if fence[2] in ("sh", "console", ""):
                commands = _commands(body, fence[2])
                if commands:
                    blocks.append(Block(fence[0], tuple(commands)))
            fence = None
        elif fence is not None:
            body.append((number, line.removeprefix(fence[1])))
    return blocks


# What varies between runs, or between the fully trained registry the README shows and the quick
# one the test serves, in the order applied; everything else (keys, labels, versions, status codes,
# headers, messages, layout) is compared. Runs of blanks count as one blank.
MASKS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "timestamps",
        re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:\d\d)?"),
        "<time>",
    ),
    ("HTTP dates", re.compile(r"^date: .*$", re.MULTILINE | re.IGNORECASE), "date: <time>"),
    (
        "body lengths",
        re.compile(r"^content-length: \d+", re.MULTILINE | re.IGNORECASE),
        "content-length: <n>",
    ),
    ("digests", re.compile(r"\b[0-9a-f]{64}\b"), "<digest>"),
    # Request ids the server makes (X-Request-Id, payload records): a new UUID each time.
    (
        "request ids",
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b"),
        "<uuid>",
    ),
    ("byte counts", re.compile(r"\b\d+ bytes\b"), "<n> bytes"),
    # Probabilities, accuracies, seconds, megabytes, counter values: 0.9802873, 1e-6, 7.4e-07.
    ("decimals", re.compile(r"-?\b\d+(?:\.\d+(?:e-?\d+)?|e-?\d+)\b"), "<x>"),
    # `uniq -c` counts of a random canary split, and rows a shadow had scored when asked.
    ("counts", re.compile(r"^ *\d+ (?=\S)", re.MULTILINE), "<count> "),
    ("shadow rows", re.compile(r"'rows_compared': \d+"), "'rows_compared': <count>"),
)


# A digit an MNIST model reads from a photo: the quick registry's one-epoch models misread some.
DIGIT_LABELS = re.compile(r'"label":"\d","class_index":\d')


def masked(output: str, digits: bool = False) -> str:
    for _name, pattern, replacement in MASKS:
        output = pattern.sub(replacement, output)
    if digits:
        output = DIGIT_LABELS.sub('"label":"<digit>","class_index":<digit>', output)
    lines = (re.sub(r"[ \t]+", " ", line.replace("\r", "")).strip() for line in output.split("\n"))
    return "\n".join(lines).strip("\n")


def matches(actual: str, expected: str, digits: bool = False) -> bool:
    """Whether the masked output is the masked README output (`digits`: with the digits read
    masked too); a README line `...` stands for any number of lines."""
    actual, expected = masked(actual, digits), masked(expected, digits)
    if "..." not in expected.split("\n"):
        return actual == expected
    parts = [".*?" if line == "..." else re.escape(line) for line in expected.split("\n")]
    return re.fullmatch("\n".join(parts), actual, re.DOTALL) is not None
