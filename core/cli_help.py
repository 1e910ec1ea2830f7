"""One look for every command line's ``--help`` (training, client, smoke, local, benchmarks).

Prose is wrapped to the terminal, at most ``HELP_WIDTH`` columns; indented lines (commands, small
tables) are kept as written, so an example is never broken mid-command. The examples come last,
under ``Examples:``, each starting with the program's name; a long one continues on lines that the
line before ends with a backslash, as a shell would read it.
"""

from __future__ import annotations

import argparse
import shutil
import textwrap

HELP_WIDTH = 100
EXAMPLES_HEADING = "Examples:"
EXAMPLE_INDENT = "  "
CONTINUATION_INDENT = "      "

Example = str | tuple[str, ...]


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Wraps prose paragraphs of the description and epilog to the width; keeps indented lines."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        if width is None:
            width = min(shutil.get_terminal_size().columns, HELP_WIDTH) - 2
        super().__init__(prog, indent_increment, max_help_position, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return fill(text, width, indent)


def fill(text: str, width: int, indent: str = "") -> str:
    """Runs of unindented lines become one wrapped paragraph each; blank and indented lines stay."""
    out: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            out.append(textwrap.fill(" ".join(prose), width, initial_indent=indent, subsequent_indent=indent))
            prose.clear()

    for line in textwrap.dedent(text).splitlines():
        if line and not line[0].isspace():
            prose.append(line.strip())
            continue
        flush()
        out.append(indent + line if line.strip() else "")
    flush()
    return "\n".join(out)


def examples(*items: Example, notes: str = "") -> str:
    """The ``Examples:`` block for an ``epilog``, after ``notes`` (prose) when given.

    Each item is a command line (``"python -m client predict dog.jpg"``), a comment
    (``"# then ..."``), or a tuple of parts written as one command continued with backslashes.
    """
    lines = [EXAMPLES_HEADING]
    for item in items:
        parts = (item,) if isinstance(item, str) else item
        if not parts:
            raise ValueError("an example needs at least one part")
        for position, part in enumerate(parts):
            last = position == len(parts) - 1
            prefix = EXAMPLE_INDENT if position == 0 else CONTINUATION_INDENT
            lines.append(prefix + part + ("" if last else " \\"))
    block = "\n".join(lines)
    return f"{notes.strip()}\n\n{block}" if notes.strip() else block
