"""Verifiers that score a policy's completions at inference time (issue 15): train one with
``rl-reasoner verifier RUN --kind orm|prm``, use it with :func:`load_verifier` and :meth:`Verifier.score`
(a process verifier also scores each step: :meth:`Verifier.score_steps`)."""

from rl_reasoner.verifier.info import VerifierError
from rl_reasoner.verifier.load import Verifier, load_verifier
from rl_reasoner.verifier.metrics import auroc

__all__ = ["Verifier", "VerifierError", "auroc", "load_verifier"]
