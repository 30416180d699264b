"""The house limits (/work/shared/STYLE.md "Habits"): functions of at most 60 lines, files of at most 400,
in the packages and the benchmarks. A function's length runs from its ``def`` line (decorators excluded)
to its last line; nested functions and methods are measured on their own as well."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("rl_reasoner", "rewards", "benchmarks")
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 400
FILES = sorted(p for folder in CHECKED for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def where(path: Path, line: int | None = None) -> str:
    name = path.relative_to(ROOT).as_posix()
    return f"{name}:{line}" if line else name


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{where(path, node.lineno)} {node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_the_checked_folders_hold_python_files():
    for folder in CHECKED:
        assert any(p.is_relative_to(ROOT / folder) for p in FILES), f"no .py file under {folder}/"


def test_no_function_is_longer_than_60_lines():
    offenders = [line for path in FILES for line in long_functions(path)]
    if offenders:
        pytest.fail(f"functions over {MAX_FUNCTION_LINES} lines (split them):\n" + "\n".join(offenders))


def test_no_file_is_longer_than_400_lines():
    sizes = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in FILES}
    offenders = [f"{where(path)}: {n} lines" for path, n in sizes.items() if n > MAX_FILE_LINES]
    if offenders:
        pytest.fail(f"files over {MAX_FILE_LINES} lines (split them):\n" + "\n".join(offenders))
