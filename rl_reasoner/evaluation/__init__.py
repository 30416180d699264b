"""``rl-reasoner eval``: sample a model on an eval set, verify, and report pass@k, maj@k, lengths and the
accuracy-vs-token-budget curve. Modules, in the order a run uses them: ``sources`` (data), ``backends``
(generation), ``runner`` (resumable sampling + scoring), ``metrics``, ``report``; ``cli`` wires them."""
