"""Sums and products at the random points of ``symbolic._at_points`` (worker side only: sympy objects that
the worker's parser built, never text).

A count such as ``n`` in ``\\sum_{k=0}^{n-1}`` is drawn as an integer below 100, so at a point each sum has
integer limits and at most ~100 terms. Written out term by term it is exact and takes about a millisecond;
sympy's numeric evaluation of the same sum (``N``) runs Euler-Maclaurin, about 50 ms a sum.
"""

from __future__ import annotations

MAX_TERMS = 200  # longer sums (or symbolic limits) are left to sympy's numeric evaluation, as before


def written_out(expr):
    """``expr`` with each sum or product over integer limits, at most ``MAX_TERMS`` terms, computed.

    >>> import sympy
    >>> k, c = sympy.symbols("k c")
    >>> written_out(sympy.Sum(c * k, (k, 1, 4)) + 1)
    10*c + 1
    >>> written_out(sympy.Sum(k, (k, 1, 10**6)))
    Sum(k, (k, 1, 1000000))
    >>> written_out(sympy.Sum(k ** (k ** k), (k, 1, 50)))
    Sum(k**(k**k), (k, 1, 50))
    """
    import sympy

    kinds = (sympy.Sum, sympy.Product)
    if not (isinstance(expr, sympy.Basic) and expr.has(*kinds)):
        return expr
    return expr.replace(lambda e: isinstance(e, kinds) and _few_terms(e), lambda e: e.doit())


def _few_terms(node) -> bool:
    import sympy

    powers = node.function.atoms(sympy.Pow)
    if any(power.exp.has(var) for power in powers for var in node.variables):
        return False  # k^{k^k}: exact terms can have billions of digits (numeric evaluation stays bounded)
    for _, *bounds in node.limits:
        if len(bounds) != 2 or not all(b.is_Integer for b in bounds):
            return False
        if not -1 <= bounds[1] - bounds[0] <= MAX_TERMS:  # (an empty sum is 0; reversed limits: as before)
            return False
    return True


def limit_symbols(expr) -> set:
    """The free symbols in the limits of a sum or product (at a fractional limit sympy's numeric
    evaluation of the sum runs Euler-Maclaurin for seconds).

    >>> import sympy
    >>> k, n = sympy.symbols("k n")
    >>> limit_symbols(sympy.Sum(k, (k, 0, n - 1)))
    {n}
    """
    import sympy

    found = set()
    for node in expr.atoms(sympy.Sum, sympy.Product) if isinstance(expr, sympy.Basic) else ():
        for _, *bounds in node.limits:
            found.update(*(bound.free_symbols for bound in bounds))
    return found
