"""Imported once by the worker pool's fork server (never by the caller): parse and compare one answer of
every kind, so that the lazy imports and caches of sympy and the LaTeX parser are filled before any
worker forks, and no first comparison spends its deadline on them.
"""

from rewards.verify.symbolic import _latex_to_sympy, symbolic_equal

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
    ("(s-3)(s+4)", "s^2+s-12"),
    ("u^2+v^2=9", "3u^2+3v^2-27=0"),
    ("(-5,5)", "|u|<5"),
    (r"\cot^2(t)+1", r"\csc^2(t)"),  # trigonometric identities at points
    (r"s_m=\sum_{j=0}^{m-1}u_ju_{m-j-1}", r"s_m=\sum_{j=0}^{m-1}u_{m-j-1}u_j"),  # sums written out
    (r"\begin{pmatrix}\sqrt[3]{t}^2\\1\end{pmatrix}", r"\begin{pmatrix}t^{2/3}\\1\end{pmatrix}"),
)

# Only for ANTLR's prediction (DFA) cache, which lives in the parser class and is inherited by every
# worker: one string of each common answer shape, so that no worker pays full-LL prediction the first
# time it meets that shape. These fill no result cache.
_SHAPES = (
    r"\sqrt[3]{5}",
    r"\frac{3}{7}\sqrt{5}",
    r"\sqrt{\frac{5}{7}}",
    r"7^{-3}",
    r"\frac{1}{5^{7}}",
    r"e^{-3}",
    r"\theta^{1/3}",
    r"2\frac{1}{5}",
    r"\frac{-3}{5}",
    r"(2+i)^3",
    r"\frac{3}{i}",
    r"\sqrt{-9}",
    r"5.5-2.5i",
    r"\{\sqrt{5},-\sqrt{5}\}",
    r"\{\}",
    r"\emptyset",
    r"(-\infty,5]\cup[7,\infty)",
    r"\mathbb{R}\setminus\{3\}",
    r"3<t<5",
    r"|t|\le 5",
    r"t\ge 5",
    r"t\leq -1",
    r"\pm 5",
    r"t=5,t=-5",
    r"5t-2s+1=0",
    r"s=-\frac{1}{3}t+2",
    r"s^2+t^2-9=0",
    r"(\begin{array}{cc}5&6\\7&8\end{array})",
    r"3\begin{pmatrix}5\\6\end{pmatrix}",
    r"\begin{pmatrix}3\sqrt{5}\\7\end{pmatrix}",
    r"\frac{s+t}{st}",
    r"\frac{1}{s}+\frac{1}{t}",
    r"(s-t)(s+t)",
    r"5(t+7)",
    r"\pi\cdot 3",
    r"\lim_{m\to\infty}(1+\frac{2}{m})^m",
    r"\sum_{k=1}^{5}k",
    r"(s-3)(s+4)",
    r"s^2-s-12",
    r"u^2+v^2=9",
    r"3u^2+3v^2-27=0",
    r"2u+v-w=5",
    r"v=3+5u",
    r"7-2i",
    r"|u|>5",
    r"\frac{s}{3}+\frac{2}{3}",
    r"\sqrt{7}+\sqrt{5}",
    r"t_1=5,t_{2}=7",  # subscripts: parsed as t_{1}^{1} (see symbolic._SUBSCRIPT)
    r"s_m=\sum_{j=1}^{m-1}u_jv_{m-j}",
    r"u_{m+1}=2u_m-3",
    r"\frac{t_1}{s_2}+t_{3}^{2}",
    # functions, trigonometry, relations and number spellings (each new shape costs its first worker
    # 20-70 ms of full-LL prediction, the same again on every worker of the pool)
    r"\cot^2(t)+1",
    r"\csc^2(t)",
    r"3\cos u\sin v",
    r"g(5)>g(3)>g(7)",
    r"1<g(t)<2",
    r"g(s)=2s",
    r"g(t)",
    r"s\in[-\frac{5}{3},-2]\cup[2,\frac{5}{3}]",
    r"2\leq|w|\leq\frac{5}{2}",
    r"\{-3\}\cup[2,5)",
    r"-[2,5)",
    r"\{2\pm\sqrt{7},-3\}",
    r"\frac{\sqrt{\sqrt{5}+\sqrt{71}}}{13+3\sqrt{21}}",
    r"10^{\frac{-3+\sqrt{7}}{5}},10^{-\frac{3+\sqrt{7}}{5}}",
    r"\begin{pmatrix}\frac{1}{2\sqrt[3]{t}^2}&1\\-\cos(t)&0\end{pmatrix}",
    r"\begin{pmatrix}\frac{1}{2t^{3/5}}&1\\-\cos(t)&0\end{pmatrix}",
    r"QWRTP5Q",
    r"t\approx 5",
    r"t\neq 7",
    r"t!=7",
    r"\frac{3\Delta t}{\Delta t'}\geq\frac{5}{2}",
    r"\cfrac{2}{5}",
    r"27{,}351",
    r"5:30",
    r"(5,3)or(3,5)",
    r"s=5,t=3;s=7,t=3",
    r"m=3,4,5",
    r"B=(1,2)",
    r"\frac{\theta s}{s+t}",
)

for _latex in _SHAPES:
    try:
        _latex_to_sympy(_latex)
    except Exception:
        pass

for _gold, _pred in _SAMPLES:
    symbolic_equal(_gold, _pred)
