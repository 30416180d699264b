"""pytest's collection rules for the whole repository.

``--doctest-modules`` imports every module under ``rl_reasoner/``; the ones that need an optional extra
are left out when that extra is not installed (CI installs ``.[dev]`` only).
"""

from importlib.util import find_spec

collect_ignore = [] if find_spec("kronfluence") else ["rl_reasoner/influence/ekfac.py"]
