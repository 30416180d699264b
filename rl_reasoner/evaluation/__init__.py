"""The one evaluation engine, behind ``rl-reasoner eval`` and the pipeline's eval stage: sample a model on
named variants of an eval set (original, perturbed, forced trace styles), verify in batches, and report
pass@k, maj@k, lengths and the accuracy-vs-token-budget curve in one ``metrics.json`` schema. Modules, in
the order a run uses them: ``sources`` (data), ``backends`` (generation, on the GPU when there is one),
``runner`` (resumable sampling + scoring, :func:`~rl_reasoner.evaluation.runner.evaluate_model`),
``metrics``, ``report``; ``search`` (best-of-N) and ``beam`` (process-verifier beam search) wrap a backend
for ``--search``; ``cli`` parses the command, ``callback`` runs the same metrics during training."""
