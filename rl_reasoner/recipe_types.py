"""Typed checking of recipe values: a YAML mapping -> a dataclass, every value checked against its annotation.

:func:`build_section` fills one dataclass from a mapping: unknown keys and missing required keys are
errors, each value goes through :func:`checked`, and a field whose type is one of this project's
dataclasses (a nested section) is built the same way. A caller can hand some fields to its own
functions (``special``: field name -> function of (name, value)); ``rl_reasoner.recipe`` does that for
the ``sft``/``grpo`` sections, which hold TRL config fields. Every failure is a one-paragraph
:class:`RecipeError`; the dataclasses themselves (and their ``__post_init__`` rules) live in
``rl_reasoner/recipe.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import enum
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from rl_reasoner.recipe_files import RecipeError
from rl_reasoner.recipe_files import check as _check

PROJECT_PACKAGE = "rl_reasoner"  # dataclasses defined under it are sections: built field by field


class _Mismatch(Exception):
    """A value does not fit an annotation (turned into a RecipeError by the caller)."""


def type_name(tp: Any) -> str:
    """``tp`` as a recipe author reads it: ``int | None``, ``list[int]``, ``Literal['sft', 'base']``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return " | ".join(type_name(arm) for arm in typing.get_args(tp))
    if isinstance(tp, type) and not typing.get_args(tp):
        return "None" if tp is type(None) else tp.__name__
    return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", str(tp))  # list[...], Literal[...]: drop module paths


def _is_section(tp: Any) -> bool:
    module = getattr(tp, "__module__", "")
    in_project = module == PROJECT_PACKAGE or module.startswith(PROJECT_PACKAGE + ".")
    return isinstance(tp, type) and dataclasses.is_dataclass(tp) and in_project


def _coerce(value: Any, tp: Any, where: str, lenient: bool) -> Any:
    """Return ``value`` checked against ``tp`` (converted where noted); raise _Mismatch if it does not fit."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        enums = tuple(a for a in args if isinstance(a, enum.EnumMeta))
        if enums and isinstance(value, str):  # `SchedulerType | str`: only enum values work
            args = enums
        for lenient_pass in (False, True) if lenient else (False,):  # exact fits win over conversions
            for arm in args:
                try:
                    return _coerce(value, arm, where, lenient_pass)
                except _Mismatch:
                    pass
    elif origin is Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
    elif tp in (bool, int, str, type(None)):  # strict: YAML 0/1 or "yes" are not booleans, True is not an int
        if isinstance(value, tp) and (tp is bool or not isinstance(value, bool)):
            return value
    elif tp is float:  # ints stay ints (TrainingArguments' `save_steps: float` means "int or float")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        # PyYAML implements YAML 1.1, which reads `1e-4` (no dot) as the STRING "1e-4"; accept such strings.
        if lenient and isinstance(value, str):
            with contextlib.suppress(ValueError):
                return float(value)
    elif isinstance(tp, enum.EnumMeta):  # e.g. `SchedulerType | str`: keep the string, TRL converts it
        if isinstance(value, tp) or value in [m.value for m in tp]:
            return tp(value).value
    elif tp is list or origin is list:
        if isinstance(value, list):
            item_tp = args[0] if args else Any
            return [_coerce(v, item_tp, f"{where}[{i}]", lenient) for i, v in enumerate(value)]
    elif tp is dict or origin is dict:
        key_tp, value_tp = args or (Any, Any)
        if isinstance(value, Mapping):  # int keys come back from JSON (manifest.json) as digit strings
            key = lambda k: int(k) if key_tp is int and isinstance(k, str) and k.isdigit() else k  # noqa: E731
            return {_coerce(key(k), key_tp, where, lenient): _coerce(v, value_tp, f"{where}.{k}", lenient)
                    for k, v in value.items()}
    elif _is_section(tp):
        return build_section(tp, value, where)
    else:
        return value  # Any, or something exotic (a foreign class, a forward reference): accept it as written
    raise _Mismatch


def checked(value: Any, tp: Any, where: str) -> Any:
    """``value`` checked against the annotation ``tp`` (YAML's ``1e-4`` string read as a float); a
    RecipeError names ``where`` and the expected type when it does not fit."""
    try:
        return _coerce(value, tp, where, lenient=True)
    except _Mismatch:
        enums = [a for a in typing.get_args(tp) if isinstance(a, enum.EnumMeta)]
        expected = type_name(tp) + (f" (one of {[m.value for e in enums for m in e]})" if enums else "")
        raise RecipeError(f"invalid value for '{where}': expected {expected}, got {type(value).__name__} "
                          f"{value!r}") from None


def unknown_key(key: Any, section: str, valid: Sequence[str], documented: str) -> RecipeError:
    """The error for a key ``section`` does not have: the closest valid key, the list when it is short,
    and where the valid keys are ``documented``."""
    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else "."
    listed = f" Valid keys: {', '.join(valid)}." if len(valid) <= 12 else ""
    return RecipeError(f"unknown key '{key}' in section '{section}'{hint}{listed} "
                       f"Valid keys are the fields of {documented}.")


def build_section(
    cls: type, data: Any, section: str, special: Mapping[str, Callable[[str, Any], Any]] | None = None
) -> Any:
    """``cls`` built from the mapping ``data`` (the section named ``section``; ``"(top level)"`` for the
    whole recipe); the fields in ``special`` are checked by their own function instead."""
    if not isinstance(data, Mapping):
        raise RecipeError(f"section '{section}' must be a mapping, got {type(data).__name__} {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in data:
        if key not in fields:
            where = f"{cls.__name__} in {cls.__module__.replace('.', '/')}.py"
            raise unknown_key(key, section, list(fields), where)
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            _check(not no_default, f"missing required key '{name}' in section '{section}'")
            continue
        if special and name in special:
            kwargs[name] = special[name](name, data[name])
        else:
            kwargs[name] = checked(data[name], hints[name], f"{section}.{name}".removeprefix("(top level)."))
    try:
        return cls(**kwargs)
    except RecipeError as exc:
        raise RecipeError(exc if section == "(top level)" else f"in section '{section}': {exc}") from None
