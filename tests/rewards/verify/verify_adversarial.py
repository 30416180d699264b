"""Adversarial (gold, completion) pairs for the verifier, built in code because some are a megabyte long.

``build_cases(marker_dir)`` returns ``(name, gold, completion)`` triples. Injection payloads would create
files under ``marker_dir`` if anything ever evaluated them; ``INJECTION_PREFIX`` marks those cases, whose
result must never be True. Used by ``test_verify_adversarial.py`` and ``benchmarks/verify_bench.py``.
"""

from __future__ import annotations

from pathlib import Path

INJECTION_PREFIX = "inject-"
MB = 1_000_000
PROSE = "We consider the next case and check whether the constraint holds; it does not, so we continue. "


def _nested(template: str, inner: str, depth: int) -> str:
    """``template`` (with one ``{}`` slot) wrapped around ``inner`` ``depth`` times."""
    for _ in range(depth):
        inner = template.replace("{}", inner, 1)
    return inner


def _boxed(text: str) -> str:
    return "\\boxed{" + text + "}"


def _injections(marker_dir: Path) -> list[tuple[str, str, str]]:
    """Payloads that would create ``marker_dir/pwned_*`` if evaluated as Python (all valid Python)."""

    def m(tag: str) -> str:
        return str(marker_dir / f"pwned_{tag}")

    os_system = f"__import__('os').system('touch {m('os')}')"
    exec_open = f"exec(\"open('{m('exec')}', 'w').write('x')\")"
    subprocess_run = f'__import__("subprocess").run(["touch", "{m("subprocess")}"])'
    globals_escape = f"Symbol('x').__init__.__globals__['os'].system('touch {m('globals')}')"
    return [
        ("os-system-boxed", "0", f"The result is {_boxed(os_system)}."),
        ("os-system-plain", "0", f"Let me run this.\n{os_system}\nThe final answer is {os_system}"),
        ("os-system-answer-tag", "0", f"<answer>{os_system}</answer>"),
        ("os-system-gsm8k", "0", f"#### {os_system}"),
        ("exec-boxed", "0", _boxed(exec_open)),
        ("exec-plain", "0", f"Running it gives the value.\nThe answer is {exec_open}"),
        ("open-boxed", "0", _boxed(f"open('{m('open')}','w')")),
        ("open-plain", "x", f"open('{m('open2')}','w').write('1')\n#### open('{m('open2')}','w')"),
        ("subprocess-boxed", "0", _boxed(subprocess_run)),
        ("eval-boxed", "0", _boxed(f"eval(\"__import__('os').system('touch {m('eval')}')\")")),
        ("lambda-boxed", "0", _boxed(f"(lambda: __import__('os').system('touch {m('lambda')}'))()")),
        ("subclasses-escape", "0", _boxed("().__class__.__bases__[0].__subclasses__()")),
        ("globals-escape", "x", _boxed(globals_escape)),
        ("gold-is-payload", os_system, _boxed(os_system)),
    ]


def build_cases(marker_dir: Path) -> list[tuple[str, str, str]]:
    """All adversarial ``(name, gold, completion)`` cases; injection payloads write under ``marker_dir``."""
    deep_braces = "{" * 500 + "1" + "}" * 500
    deep_frac = _nested(r"\frac{1}{{}}", "2", 500)
    deep_sqrt = _nested(r"\sqrt{{}}", "2", 200)
    megabyte = (PROSE * (MB // len(PROSE) + 1))[:MB]
    cases = [(INJECTION_PREFIX + name, gold, text) for name, gold, text in _injections(marker_dir)]
    cases += [
        ("tower-9-9-9-9", "1", r"\boxed{9^{9^{9^9}}}"),
        ("tower-2-2-2-2-2", "1", r"\boxed{2^{2^{2^{2^{2}}}}}"),
        ("tower-10-10-10", "1", r"\boxed{10^{10^{10}}}"),
        ("tower-as-gold", r"10^{10^{10}}", r"\boxed{10^{10^{10}}}"),
        ("tower-unbraced", "1", r"\boxed{9^9^9^9}"),
        ("huge-exponent", "1", r"\boxed{2^{1000000}}"),
        ("huge-negative-exponent", "0", r"\boxed{10^{-10^{10}}}"),
        ("factorial-1e6", "1", r"\boxed{1000000!}"),
        ("factorial-of-power", "1", r"\boxed{(10^{100})!}"),
        ("binomial-1e9", "1", r"\boxed{\binom{10^9}{5*10^8}}"),
        ("binomial-1e9-cdot", "1", r"\boxed{\binom{10^9}{5\cdot 10^8}}"),
        ("product-1e7", "1", r"\boxed{\prod_{k=1}^{10^7} k}"),
        ("sum-1e12", "1", r"\boxed{\sum_{k=1}^{10^{12}} k}"),
        ("slow-integral", "1", r"\boxed{\int_{0}^{1} e^{-x^{2}}\sin(x)dx}"),
        ("symbolic-tower", "x", r"\boxed{x^{x^{x^{x}}}}"),
        ("digits-5000", "1" * 5000, rf"\boxed{{{'1' * 5000}}}"),
        ("e-notation-huge", "1", r"\boxed{1e999999}"),
        ("deep-braces-500", "1", rf"\boxed{{{deep_braces}}}"),
        ("deep-frac-500", "1", rf"\boxed{{{deep_frac}}}"),
        ("deep-frac-unclosed-500", "1", r"\boxed{" + r"\frac{" * 500),
        ("deep-sqrt-200", "2", rf"\boxed{{{deep_sqrt}}}"),
        ("deep-braces-gold", deep_braces, r"\boxed{1}"),
        ("megabyte-with-boxed", "42", megabyte + r"So the answer is $\boxed{42}$."),
        ("megabyte-without-answer", "42", megabyte),
        ("megabyte-open-braces", "1", r"\boxed{1}" + "{" * MB),
        ("megabyte-many-boxed", "5", r"\boxed{5}" * (MB // 9)),
        ("megabyte-gold", "7" * MB, r"\boxed{7}"),
        ("boxed-100kb-sum", "1", r"\boxed{" + "1+" * 50_000 + "1}"),
        ("boxed-100kb-letters", "x", r"\boxed{" + "x" * 100_000 + "}"),
        ("boxed-100kb-frac-chain", "1", r"\boxed{" + r"\frac{1}{2}+" * 9_000 + "1}"),
        ("unclosed-frac", r"\frac{1}{2}", r"\boxed{\frac{1}{2"),
        ("unclosed-many", "1", r"\boxed{" * 10_000),
        ("unbalanced-closers", "1", r"\boxed{1}" + "}" * 10_000),
        ("nul-inside-boxed", "42", "\\boxed{4\x002}"),
        ("nul-prefix", "42", "\x00" * 10_000 + r"\boxed{42}"),
        ("nul-gold", "4\x002", r"\boxed{42}"),
        ("zero-width-space", "42", "\\boxed{4\u200b2}"),
        ("zero-width-joiner-gold", "4\u200d2", r"\boxed{42}"),
        ("rtl-override", "24", "\\boxed{\u202e42}"),
        ("rtl-arabic", "42", "\u0627\u0644\u062c\u0648\u0627\u0628 \\boxed{\u0664\u0662}"),
        ("emoji-in-boxed", "42", "\\boxed{42 \U0001f389}"),
        ("emoji-flood", "42", "\U0001f914" * 100_000 + r"\boxed{42}"),
        ("combining-marks", "5", "\\boxed{5" + "\u0301" * 10_000 + "}"),
        ("surrogate-escape", "1", "\\boxed{1\udcff}"),
    ]
    return cases
