"""``python -m rl_reasoner`` (what ``accelerate launch -m rl_reasoner`` runs)."""

import sys

from rl_reasoner.cli import main

sys.exit(main())
