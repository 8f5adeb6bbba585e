"""Checks of untrusted input shared by the data side (`loaders`) and the submissions side."""

from __future__ import annotations

from typing import Any


def too_deep(value: Any, limit: int) -> bool:
    """Whether lists/mappings nest deeper than `limit` (measured without recursion, so a
    hostile value cannot exhaust the stack while it is measured)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False
