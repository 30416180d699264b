"""benchmarks/math_verify_cases.py on a fake Math-Verify repository: which asserts become cases (with their
config), which are skipped and why, and the header's source record; nothing of the test files is run."""

import json
import subprocess
import textwrap

import pytest

HELPER = '''
def compare_strings(gold, pred, match_types=["latex", "expr"], precision=6, strict=True,
                    allow_set_relation_comp=False):
    extraction_targets = []
    for match_type in match_types:
        if match_type == "latex":
            extraction_targets.append(LatexExtractionConfig(boxed_match_priority=0))
        elif match_type == "expr":
            extraction_targets.append(ExprExtractionConfig())
    gold_parsed = parse(gold, extraction_targets)
    pred_parsed = parse(pred, extraction_targets)
    return verify(gold_parsed, pred_parsed, float_rounding=precision, strict=strict,
                  allow_set_relation_comp=allow_set_relation_comp)
'''

TESTS = '''
import math
raise SystemExit("the extractor must never run this file")

@pytest.mark.parametrize(
    "gold,pred,expected,precision",
    [
        ("$1/3$", "$0.33$", 1, 2),
        ("$9$", r"Answer \\( 8 \\)", 0, 6),
        (f"{math.sqrt(17):.5f}", "$\\\\sqrt{17}$", 1, 5),
    ],
)
def test_numbers(gold, pred, expected, precision):
    assert compare_strings(gold, pred, match_types=["latex"], precision=precision) == expected

@pytest.mark.parametrize("gold, pred, result", [("$-5$", "-5", 1)])
def test_defaults(gold, pred, result):
    assert int(verify(parse(gold), parse(pred))) == result

@pytest.mark.parametrize("pred,expected,config", [("The answer is A.", ["a", "A"], None)])
def test_strings(pred, expected, config):
    assert parse(pred, [config]) == expected

def test_mixed():
    assert sympy_expr_eq(sympy.Rational(1, 3), sympy.Float(0.333), float_rounding=3)
    assert compare_strings("$1$", "$2$", strict=False) == 0
'''


def test_kept_cases_carry_the_tests_config_and_verdict(load_bench):
    extractor = load_bench("math_verify_cases")
    defaults = extractor.helper_defaults(HELPER)
    assert defaults == {"match_types": ["latex", "expr"], "precision": 6, "strict": True,
                        "allow_set_relation_comp": False}
    kept, skipped = extractor.file_cases("test_fake.py", TESTS, defaults)
    latex = {"helper": "compare_strings", "match_types": ["latex"], "strict": True,
             "allow_set_relation_comp": False}
    def case(test, i, gold, prediction, expected, config):
        return {"id": f"test_fake.py::{test}[{i}]", "file": "test_fake.py", "test": test, "gold": gold,
                "prediction": prediction, "expected": expected, "config": config}

    assert kept == [
        case("test_numbers", 0, "$1/3$", "$0.33$", True, {**latex, "precision": 2}),
        case("test_numbers", 1, "$9$", r"Answer \( 8 \)", False, {**latex, "precision": 6}),
        case("test_defaults", 0, "$-5$", "-5", True, {"helper": "parse_verify"}),
        case("test_mixed", 0, "$1$", "$2$", False, {**latex, **defaults, "strict": False}),
    ]
    reasons = {(s["test"], s["count"]): s["reason"] for s in skipped}
    assert reasons == {
        ("test_numbers", 1): "row is not a literal (computed)",
        ("test_strings", 1): "asserts on `parse(...)`, not a gold/prediction verdict",
        ("test_mixed", 1): "asserts on `sympy_expr_eq(...)`, not a gold/prediction verdict",
    }


def test_a_changed_helper_is_refused(load_bench):
    extractor = load_bench("math_verify_cases")
    with pytest.raises(ValueError, match="boxed_match_priority=0"):
        extractor.helper_defaults(HELPER.replace("boxed_match_priority=0", "boxed_match_priority=50"))


def test_extract_reads_a_commit_and_records_its_source(load_bench, tmp_path):
    extractor = load_bench("math_verify_cases")
    repo = tmp_path / "Math-Verify"
    (repo / "tests").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[project]\nname = "math-verify"\nversion = "0.8.0"\n')
    (repo / "tests" / "test_all.py").write_text(HELPER + textwrap.dedent(TESTS))
    (repo / "tests" / "helpers.py").write_text("def test_not_a_test_file(): assert f(1) == 1\n")

    def git(*args):
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "fake")
    header, cases = extractor.extract(repo)
    assert header["source"]["commit"] == git("rev-parse", "HEAD").stdout.strip()
    assert header["source"]["package_version"] == "0.8.0"
    assert header["kept"] == {"test_all.py": 4}
    assert sum(s["count"] for s in header["skipped"]) == 3
    out = tmp_path / "cases.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in (header, *cases)))
    assert extractor.load(out) == (header, cases)


def test_page_section_names_the_source_and_scores_per_file(load_bench):
    report = load_bench("verify_report")
    timing = {k: {"mean_ms": v, "p50_ms": v, "max_ms": v, "n": 2}
              for k, v in (("math_verify", 10.0), ("ours_cold", 2.0), ("ours_warm", 0.1))}
    timing["ours_cold_one_batch"] = {"mean_ms": 1.0, "n": 2}
    timing["ours_first_sight_one_batch"] = {"mean_ms": 3.0, "n": 2}
    wrong = {"note": "test_all.py::test_x[1]", "gold": "$9$", "extracted": None,
             "expected": True, "got": False}
    mv_set = {
        "source": {"repository": "https://github.com/huggingface/Math-Verify", "commit": "abc",
                   "commit_date": "2025-07-02", "package_version": "0.8.0", "licence": "Apache-2.0",
                   "extracted_by": "python benchmarks/math_verify_cases.py"},
        "kept": {"test_all.py": 2, "test_timeout.py": 0},
        "skipped": [{"file": "test_timeout.py", "test": "test_t", "reason": "asserts on `x`", "count": 3}],
        "n_cases": 2, "batch_s": 0.1, "counters": {"calls": 2},
        "agreement": {"test_all.py": {"n": 2, "ours": 0.5, "math_verify": 1.0},
                      "overall": {"n": 2, "ours": 0.5, "math_verify": 1.0},
                      "tests without options": {"n": 1, "ours": 1.0, "math_verify": 1.0}},
        "wrong": {"ours": [wrong], "math_verify": []},
        "families": [{"family": "no answer found, math mode", "description": "d", "n": 1,
                      "wrong": {"ours": 1, "math_verify": 0},
                      "examples": [{"id": wrong["note"], "gold": "$9$", "prediction": "Answer\n$9$",
                                    "extracted": None, "expected": True, "got": False}]}],
        "timing": timing,
    }
    res = {"versions": {"math-verify": "0.9.0"}, "math_verify_set": mv_set}
    page = "\n".join(report._math_verify_set_md(res))
    assert "https://github.com/huggingface/Math-Verify at commit `abc`" in page and "version 0.8.0" in page
    assert "Math-Verify run here: 0.9.0" in page
    assert "| test_all.py | 2 | 0 | 50.0% | 100.0% | - |" in page
    assert "| test_timeout.py | 0 | 3 | - | - | - |" in page
    assert "| **overall** | 2 | 3 | 50.0% | 100.0% | - |" in page
    assert "Ours / Math-Verify mean time per case: ours_cold 0.20x, ours_cold_one_batch 0.10x." in page
    assert "prediction `Answer\\n$9$`" in page  # one line per example


def test_page_ends_with_the_deliberate_differences_and_their_reasons(load_bench):
    report = load_bench("verify_report")
    section = "\n".join(report._differences_md({}))
    assert section.startswith("## Where `rewards.verify` deliberately differs from Math-Verify")
    rows = [line for line in section.splitlines() if line.startswith("| `test_")]
    assert len(rows) >= 9 and all(line.count("|") >= 4 for line in rows)  # case(s) | expected | ours and why
    assert "`test_strict_variable_comparison[1]`" in section
