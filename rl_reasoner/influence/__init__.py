"""Which training rows a model's answers rely on (issue 16): EK-FAC influence functions (kronfluence, the
``influence`` extra) and a plain gradient-similarity baseline, run as ``rl-reasoner influence RUN``.

Only :mod:`rl_reasoner.influence.ekfac` imports kronfluence; everything else, the input checks included,
runs without the extra."""

from rl_reasoner.influence.inputs import QUERY_KINDS, InfluenceError

__all__ = ["QUERY_KINDS", "InfluenceError"]
