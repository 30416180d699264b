"""Pure, torch-free reward functions: ``rewards.verify`` (answer verification), ``rewards.length``
(length-control rewards) and ``rewards.format``. Import from the submodules, e.g.
``from rewards.verify import verify_batch`` (nothing is re-exported here, so ``rewards.verify`` stays
the module)."""
