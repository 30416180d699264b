"""Math-Verify's own test cases as a labeled set for ``benchmarks/verify_bench.py``.

    python benchmarks/math_verify_cases.py [--repo GIT_DIR] [--commit REV] [--out JSONL]

Reads ``tests/test_*.py`` of a Math-Verify git repository (default: the local mirror of
github.com/huggingface/Math-Verify; ``git show``, no work tree needed) with ``ast`` only: the test
modules are never imported or executed, and values are read with ``ast.literal_eval``.

A test is kept when it asserts ``<call> == <expected>`` where the call compares a gold with a
prediction: ``compare_strings(gold, pred, ...)`` (``tests/test_all.py``'s helper: both strings parsed
with the same extraction targets, then ``verify``; its keyword defaults are read from its signature) or
``verify(parse(gold), parse(pred))`` (Math-Verify's defaults), optionally wrapped in ``int(...)``. Each
``pytest.mark.parametrize`` row is one case; in a test without parametrize, each such assert with
literal arguments is one. Everything else (string extraction, config and timeout tests, asserts on
sympy objects, rows that are not literals) is counted as skipped, with the reason.

Writes JSON lines: first a header ``{"source": ..., "kept": ..., "skipped": ...}`` (repository,
commit, commit date, package version at that commit, licence), then one case per line::

    {"id": "test_all.py::test_latex_notation[3]", "file": "test_all.py", "test": "test_latex_notation",
     "gold": "$9$", "prediction": "Answer \\\\( 9 \\\\)", "expected": true,
     "config": {"helper": "compare_strings", "match_types": ["latex"], "precision": 6, ...}}
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIRROR = Path("/work/.mirror/huggingface+Math-Verify/repo")
REPOSITORY = "https://github.com/huggingface/Math-Verify"
OUT_PATH = ROOT / "benchmarks" / "data" / "math_verify_cases.jsonl"
HELPER = "compare_strings"
HELPER_FILE = "test_all.py"
HELPER_BODY = (  # what the bench reproduces of compare_strings (same targets for gold and prediction)
    "LatexExtractionConfig(boxed_match_priority=0)",
    "ExprExtractionConfig()",
    "parse(gold, extraction_targets)",
    "parse(pred, extraction_targets)",
    "float_rounding=precision, strict=strict, allow_set_relation_comp=allow_set_relation_comp",
)


class Skip(Exception):
    """A test or row that is not a gold/prediction comparison with literal values; the message says why."""


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return out.stdout


def helper_defaults(source: str) -> dict:
    """The keyword defaults of ``compare_strings`` in ``tests/test_all.py``; raises if its body no longer
    does what ``verify_mv_set.math_verify_as_tested`` reproduces."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == HELPER:
            body = ast.unparse(node)
            missing = [part for part in HELPER_BODY if part not in body]
            if missing:
                raise ValueError(
                    f"{HELPER} no longer has {missing}: update verify_mv_set.math_verify_as_tested"
                )
            names = [a.arg for a in node.args.args][-len(node.args.defaults) :]
            return {n: ast.literal_eval(d) for n, d in zip(names, node.args.defaults, strict=True)}
    raise ValueError(f"{HELPER} not found in {HELPER_FILE}")


def _parametrize(test: ast.FunctionDef) -> tuple[list[str], list[ast.expr]] | None:
    """Argument names and row nodes of the test's ``pytest.mark.parametrize``; None without one."""
    for deco in test.decorator_list:
        if isinstance(deco, ast.Call) and ast.unparse(deco.func).endswith("mark.parametrize"):
            names = ast.literal_eval(deco.args[0])
            names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
            rows = deco.args[1]
            if not isinstance(rows, (ast.List, ast.Tuple)):
                raise Skip("parametrize values are not a literal list")
            return names, list(rows.elts)
    return None


def _what(test: ast.expr) -> str:
    """What an assert checks, short: the called function, else the expression."""
    node = test.left if isinstance(test, ast.Compare) else test
    node = node.operand if isinstance(node, ast.UnaryOp) else node
    return f"`{ast.unparse(node.func)}(...)`" if isinstance(node, ast.Call) else f"`{ast.unparse(test)[:40]}`"


def _comparison(node: ast.Assert) -> tuple[str, ast.Call, ast.expr]:
    """``assert <call> == <expected>``: the helper's name, the call and the expected-value node."""
    test = node.test
    not_a_comparison = Skip(f"asserts on {_what(test)}, not a gold/prediction verdict")
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        raise not_a_comparison
    call = test.left
    if isinstance(call, ast.Call) and ast.unparse(call.func) == "int" and len(call.args) == 1:
        call = call.args[0]
    if not isinstance(call, ast.Call):
        raise not_a_comparison
    if ast.unparse(call.func) == HELPER:
        return HELPER, call, test.comparators[0]
    parses = [
        isinstance(a, ast.Call) and ast.unparse(a.func) == "parse" and len(a.args) == 1 for a in call.args
    ]
    plain = not call.keywords and not any(getattr(a, "keywords", None) for a in call.args)
    if ast.unparse(call.func) == "verify" and parses == [True, True] and plain:
        return "parse_verify", call, test.comparators[0]
    raise not_a_comparison


def _value(node: ast.expr, row: dict):
    if isinstance(node, ast.Name) and node.id in row:
        return row[node.id]
    try:
        return ast.literal_eval(node)
    except ValueError as exc:
        raise Skip(f"`{ast.unparse(node)[:50]}` is not a literal") from exc


def _case(helper: str, call: ast.Call, expected: ast.expr, row: dict, defaults: dict) -> dict:
    """gold, prediction, expected and the resolved config of one comparison, given a row's values."""
    if helper == "parse_verify":
        gold, pred, config = call.args[0].args[0], call.args[1].args[0], {"helper": helper}
    else:
        gold, pred = call.args[:2]
        config = {"helper": helper, **defaults}
        config.update({k.arg: _value(k.value, row) for k in call.keywords})
    want = _value(expected, row)
    if want not in (0, 1):  # also True / False
        raise Skip(f"expected value {want!r} is not a verdict")
    return {
        "gold": _value(gold, row),
        "prediction": _value(pred, row),
        "expected": bool(want),
        "config": config,
    }


def _asserts(test: ast.FunctionDef) -> list[ast.Assert]:
    return [n for n in ast.walk(test) if isinstance(n, ast.Assert)]


def cases_of_test(test: ast.FunctionDef, defaults: dict) -> tuple[list[dict], list[tuple[str, int]]]:
    """One test's kept cases and its skipped ``(reason, count)``."""
    kept, skipped = [], []
    asserts = _asserts(test)
    try:
        param = _parametrize(test)
        if param is None:
            for node in asserts:
                try:
                    kept.append(_case(*_comparison(node), {}, defaults))
                except Skip as why:
                    skipped.append((str(why), 1))
            return kept, skipped
        if len(asserts) != 1:
            raise Skip(f"{len(asserts)} asserts per row")
        names, rows = param
        comparison = _comparison(asserts[0])
    except Skip as why:
        n = len(param[1]) if param else len(asserts)
        return [], [(str(why), n)]
    for row in rows:
        try:
            values = ast.literal_eval(row)
            kept.append(_case(*comparison, dict(zip(names, values, strict=True)), defaults))
        except ValueError:
            skipped.append(("row is not a literal (computed)", 1))
        except Skip as why:
            skipped.append((str(why), 1))
    return kept, skipped


def file_cases(name: str, source: str, defaults: dict) -> tuple[list[dict], list[dict]]:
    """Kept cases (with ids) and skipped entries of one test file's ``test_*`` functions."""
    kept, skipped = [], []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test")):
            continue
        cases, skips = cases_of_test(node, defaults)
        for i, case in enumerate(cases):
            kept.append({"id": f"{name}::{node.name}[{i}]", "file": name, "test": node.name, **case})
        grouped: dict[str, int] = {}
        for reason, n in skips:
            grouped[reason] = grouped.get(reason, 0) + n
        skipped += [{"file": name, "test": node.name, "reason": r, "count": n} for r, n in grouped.items()]
    return kept, skipped


def source_record(repo: Path, commit: str) -> dict:
    version = re.search(r'^version\s*=\s*"([^"]+)"', git(repo, "show", f"{commit}:pyproject.toml"), re.M)
    return {
        "repository": REPOSITORY,
        "commit": git(repo, "rev-parse", commit).strip(),
        "commit_date": git(repo, "log", "-1", "--format=%cI", commit).strip(),
        "package_version": version.group(1) if version else "unknown",
        "licence": "Apache-2.0 (repository LICENCE); tests/test_all.py carries an MIT header "
        "(Copyright (c) 2024 The HuggingFace Team)",
        "extracted_by": "python benchmarks/math_verify_cases.py",
    }


def extract(repo: Path, commit: str = "HEAD") -> tuple[dict, list[dict]]:
    """The header record and the kept cases of every ``tests/test_*.py`` at ``commit``."""
    files = sorted(
        p
        for p in git(repo, "ls-tree", "-r", "--name-only", commit, "tests").split()
        if re.fullmatch(r"tests/test_\w+\.py", p)
    )
    sources = {Path(p).name: git(repo, "show", f"{commit}:{p}") for p in files}
    defaults = helper_defaults(sources[HELPER_FILE])
    cases, skipped = [], []
    for name, text in sources.items():
        kept, skips = file_cases(name, text, defaults)
        cases += kept
        skipped += skips
    kept_by_file = {name: sum(c["file"] == name for c in cases) for name in sources}
    header = {
        "source": source_record(repo, commit),
        "helper_defaults": defaults,
        "kept": kept_by_file,
        "skipped": skipped,
    }
    return header, cases


def load(path: Path = OUT_PATH) -> tuple[dict, list[dict]]:
    """The header and cases of a file written by this script."""
    with path.open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return records[0], records[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=MIRROR, help="Math-Verify git directory")
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--out", type=Path, default=OUT_PATH)
    args = parser.parse_args()
    header, cases = extract(args.repo, args.commit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in (header, *cases)]
    args.out.write_text("".join(lines), encoding="utf-8")
    skipped = sum(s["count"] for s in header["skipped"])
    print(f"{len(cases)} cases kept, {skipped} skipped, from {header['source']['commit']} -> {args.out}")
    for s in header["skipped"]:
        print(f"  skipped {s['count']:3d} {s['file']}::{s['test']}: {s['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
