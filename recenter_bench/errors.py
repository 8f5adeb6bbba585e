"""The errors a user can cause; the CLI prints them as one line each, never as a traceback."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# Backslash-escape every Markdown-active ASCII punctuation mark; ":" and "@" stop GFM autolinks
# ("http://...", "a@b.c") and "." stops "www." autolinks. "&", "<" and ">" become HTML entities
# instead, because a backslash before them would make the entity's "&" literal.
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:@$=^\"'])")


def where(path: str | Path, line: int | None = None, field: str | None = None) -> str:
    """Format a location as `file:line: field` (the parts that are known)."""
    text = str(path)
    if line is not None:
        text += f":{line}"
    if field:
        text += f": {field}"
    return text


def printable(text: str) -> str:
    r"""Text from a user, a file or a pull request made safe to print on one terminal line:
    every character Python does not call printable (ESC, BEL, CR, LF, DEL, C1 controls, bidi
    overrides, line separators) is written as its escape, so no input can move the cursor,
    recolour, retitle or ring the terminal, or start a new line.

    >>> printable("ok.txt\x1b[31m\x07\r")
    'ok.txt\\x1b[31m\\x07\\r'
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)


def printable_lines(text: str) -> str:
    """Several lines of such text: each made `printable`, the line breaks kept."""
    return "\n".join(printable(line) for line in text.split("\n"))


def escape_markdown(text: Any) -> str:
    """`text` as Markdown that renders to exactly these characters, on one line.

    >>> escape_markdown("<img src=x onerror=alert(1)>")
    '&lt;img src\\\\=x onerror\\\\=alert\\\\(1\\\\)&gt;'
    """
    one_line = " ".join(str(text).split())
    escaped = _MARKDOWN_ACTIVE.sub(r"\\\1", one_line)
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def first_line(error: BaseException) -> str:
    """The first line of a library's error message, or its type's name: for one-line errors."""
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__


class UserError(Exception):
    """Bad input from the user: the message is one line naming file, line and field."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class ValidationFailed(UserError):
    """Several problems at once (a submission check): one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [" ".join(p.split()) for p in problems]
        super().__init__(f"{len(self.problems)} problem(s) found")
