"""Imported once by the worker pool's fork server (never by the caller): parse and compare one answer of
every kind, so that the lazy imports and caches of sympy and the LaTeX parser are filled before any
worker forks, and no first comparison spends its deadline on them.
"""

from rewards.verify.symbolic import symbolic_equal

_SAMPLES = (
    ("1", "1"),
    (r"\pi r^2", r"r^{2}\pi"),
    (r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}"),
    ("x^2+2x+1", "(x+1)^2"),
    ("3+4i", "4i+3"),
    (r"(1,2]", r"(-\infty,1)\cup(2,\infty)"),
    (r"\{1,2\}", "(1,2,3)"),
    ("y=2x+1", "2x-y+1=0"),
    ("x>2", r"x\geq 2"),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\begin{bmatrix}1&2\\3&4\end{bmatrix}"),
    (r"e^{2}\sin(x)", r"\ln(2)\cos(x)+1.5"),
    (r"\int_0^1 x\,dx", r"\frac{d}{dx}x^2"),
)

for _gold, _pred in _SAMPLES:
    symbolic_equal(_gold, _pred)
