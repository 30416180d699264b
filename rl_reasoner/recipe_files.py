"""Reading recipe files: strict YAML (duplicate keys are errors), ``inherit:`` chains deep-merged over
their parent file, and ``key.path=value`` command-line overrides; validation is in ``rl_reasoner.recipe``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from rl_reasoner.errors import UsageError

_EXP_FLOAT_RE = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


class RecipeError(UsageError):
    """A recipe could not be loaded or is invalid; the message is one readable paragraph."""


def check(ok: bool, message: str) -> None:
    if not ok:
        raise RecipeError(message)


class _StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: list[Any] = []
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` entries may be overridden locally
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.MarkedYAMLError(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
            seen.append(key)
        return super().construct_mapping(node, deep=deep)


def parse_override(text: str) -> tuple[list[str], object]:
    """Split ``"a.b.1.c=value"`` into ``(["a", "b", "1", "c"], value)``, the value parsed as YAML."""
    key, sep, raw = text.partition("=")
    path = key.strip().split(".")
    check(bool(sep) and all(path), f"override {text!r} must look like key.path=value (e.g. grpo.beta=0.04)")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise RecipeError(f"override {text!r}: invalid YAML value ({exc})".replace("\n", " ")) from None
    if isinstance(value, str) and _EXP_FLOAT_RE.fullmatch(value.strip()):
        value = float(value)  # YAML 1.1 reads 1e-4 as a string; on the command line it surely means a number
    return path, value


def apply_override(data: dict, text: str) -> None:
    """Set one ``key.path=value`` in the raw recipe mapping; validation later rejects unknown keys."""
    path, value = parse_override(text)
    node: Any = data
    for depth, part in enumerate(path):
        here, index = ".".join(path[:depth]), part
        if isinstance(node, list):
            check(part.isdigit() and int(part) < len(node),
                  f"override {text!r}: {part!r} is not an index into '{here}' ({len(node)} items)")
            index = int(part)
        elif not isinstance(node, dict):
            raise RecipeError(f"override {text!r}: '{here}' is a {type(node).__name__}, not a mapping/list")
        elif depth < len(path) - 1 and part not in node:  # a section the file leaves to the defaults
            check(not path[depth + 1].isdigit(), f"override {text!r}: the recipe sets no list "
                  f"'{'.'.join(path[:depth + 1])}' to index")
            node[part] = {}
        if depth == len(path) - 1:
            node[index] = value
        else:
            node = node[index]


def _deep_merge(base: Any, over: Any) -> Any:
    """``over`` merged onto ``base``: mappings merge key by key, anything else (lists too) replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{key: _deep_merge(base.get(key), value) for key, value in over.items()}}
    return over


def read_recipe_file(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    """The mapping in ``path`` with its ``inherit`` chain resolved (``chain``: the files inheriting it)."""
    resolved = path.resolve()
    if resolved in chain:
        raise RecipeError(f"recipe inheritance cycle: {' -> '.join(str(p) for p in (*chain, resolved))}")
    if not path.is_file():
        via = f" (inherited by {chain[-1]})" if chain else ""
        raise RecipeError(f"no such recipe file: {path}{via}")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RecipeError(f"invalid YAML in recipe {path}{line}: {problem}".replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise RecipeError(f"recipe {path}: the top level must be a mapping, got {type(data).__name__}")
    if (parent := data.pop("inherit", None)) is None:
        return data
    check(isinstance(parent, str) and bool(parent), f"{path}: 'inherit' must be a file path, got {parent!r}")
    return _deep_merge(read_recipe_file(path.parent / parent, (*chain, resolved)), data)

