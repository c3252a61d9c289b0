"""Finds prose that reaches people without going through the message catalogue.

A string literal that reads like a sentence or a label ("Please confirm your briefing") in a
module that draws what people see must be marked with N_/NP_ (bot.i18n.catalogue), so it is
translated for each recipient. Docstrings, log lines and exception messages meant for
operators are not person-facing and are skipped.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKERS = {"N_", "NP_"}
LOGGERS = {"log", "logger", "logging", "_log", "LOG"}
# Keyword arguments and JSON keys that carry detail for the delivery log or an HTTP client.
OPERATOR_KEYWORDS = {"detail", "error_code", "reason"}
OPERATOR_KEYS = {"error"}
WORD = re.compile(r"[A-Za-z][a-z']+")
PLACEHOLDER = re.compile(r"{[^{}]*}")
MARKUP = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class Prose:
    path: str
    line: int
    text: str


def looks_like_prose(text: str) -> bool:
    """Two or more words separated by spaces: a sentence or a label, not an identifier."""
    bare = MARKUP.sub(" ", PLACEHOLDER.sub("", text))
    return len(WORD.findall(bare)) >= 2 and " " in bare.strip()


def _skipped_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                skipped.add(id(value))  # a docstring
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else ""
            owner = func.value if isinstance(func, ast.Attribute) else None
            is_log = isinstance(owner, ast.Name) and owner.id in LOGGERS
            if name in MARKERS or is_log:
                for child in ast.walk(node):
                    skipped.add(id(child))
        if isinstance(node, ast.keyword) and node.arg in OPERATOR_KEYWORDS:
            for child in ast.walk(node.value):
                skipped.add(id(child))
        if isinstance(node, ast.Dict):
            # A key looks something up (a stored English phrase, a code); its value is said.
            skipped.update(id(key) for key in node.keys if key is not None)
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in OPERATOR_KEYS:
                    for child in ast.walk(value):
                        skipped.add(id(child))
        if isinstance(node, ast.Raise) and node.exc is not None:
            # Exceptions carry operator-facing detail; what a person sees is drawn elsewhere.
            for child in ast.walk(node.exc):
                skipped.add(id(child))
    return skipped


def unmarked_prose(path: Path, root: Path = ROOT) -> list[Prose]:
    """Every prose-like string literal in a module that is not marked for the catalogue."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _skipped_nodes(tree)
    found: list[Prose] = []
    rel = path.relative_to(root).as_posix()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
            for part in node.values:
                skipped.add(id(part))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if looks_like_prose(text):
            found.append(Prose(rel, node.lineno, text))
    return found
