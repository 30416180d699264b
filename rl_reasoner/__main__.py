"""``python -m rl_reasoner`` (what ``accelerate launch -m rl_reasoner`` runs)."""

import sys

from rl_reasoner.cli import main

if __name__ == "__main__":  # worker processes may re-import __main__; only the real entry runs
    sys.exit(main())
