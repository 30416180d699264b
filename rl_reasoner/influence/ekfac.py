"""EK-FAC influence scores with kronfluence: fit the factors once on the documents, then score queries.

kronfluence (Grosse et al., 2023, "Studying large language model generalization with influence functions")
computes ``score(q, d) = grad f(q)^T (G + lambda I)^-1 grad L(d)`` with G the EK-FAC approximation of the
Gauss-Newton Hessian over the tracked linear layers. With ``f`` the query completion's loss (minus its
log-probability), a positive score means training on ``d`` made the model's own answer more likely.
Beside it the documents' self-influence ``grad L(d)^T (G + lambda I)^-1 grad L(d)``, the denominator of the
relative score (RelatIF, Barshan et al., 2020: ``score / sqrt(self)``), which stops a few documents with large
gradients from topping every query's list.
Only imported once :func:`rl_reasoner.influence.inputs.require_kronfluence` has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from kronfluence.analyzer import Analyzer, prepare_model
from kronfluence.arguments import FactorArguments, ScoreArguments
from kronfluence.task import Task
from kronfluence.utils.dataset import DataLoaderKwargs

from rl_reasoner.influence.examples import collate, completion_loss

STRATEGIES = ("ekfac", "identity")  # identity: no preconditioning, the plain gradient dot product


class CompletionTask(Task):
    """kronfluence's view of a causal LM trained on completions (:func:`completion_loss` for both)."""

    def __init__(self, modules: Sequence[str]) -> None:
        self.modules = list(modules)

    def compute_train_loss(self, batch, model, sample: bool = False) -> torch.Tensor:
        return completion_loss(model, batch, sample=sample)

    def compute_measurement(self, batch, model) -> torch.Tensor:
        return completion_loss(model, batch)

    def get_influence_tracked_modules(self) -> list[str]:
        return self.modules

    def get_attention_mask(self, batch) -> torch.Tensor:
        return batch["attention_mask"]


def pairwise_scores(
    model,
    modules: Sequence[str],
    documents: Sequence[dict],
    queries: Sequence[dict],
    workdir: Path,
    *,
    pad_id: int,
    strategy: str = "ekfac",
    batch_size: int = 8,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(queries, documents) influence scores of :func:`rl_reasoner.influence.examples.encode` dicts, and each
    document's self-influence (documents,).

    The factors are fitted once on ``documents`` (kronfluence writes them under ``workdir``) and every query
    is scored against every document. ``model`` is wrapped in place by kronfluence (its parameters frozen).
    The fit draws its labels from the model (the true Fisher), with torch's random state seeded by ``seed``
    (unseeded, two fits of the same weights correlated 0.96 and moved the benchmark's top-1 % share 0.958 ->
    0.917).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    task = CompletionTask(modules)
    model = prepare_model(model, task)
    analyzer = Analyzer(
        analysis_name="influence",
        model=model,
        task=task,
        cpu=not torch.cuda.is_available(),
        disable_tqdm=True,
        output_dir=str(workdir),
    )
    analyzer.set_dataloader_kwargs(DataLoaderKwargs(collate_fn=lambda rows: collate(rows, pad_id)))
    with torch.random.fork_rng(devices=[]):  # the caller's random state is left as it was
        torch.manual_seed(seed)
        return _fit_and_score(analyzer, strategy, documents, queries, batch_size)


def _fit_and_score(
    analyzer: Analyzer, strategy: str, documents: Sequence[dict], queries: Sequence[dict], batch_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fits the factors on ``documents``, then the pairwise and self scores (:func:`pairwise_scores`)."""
    analyzer.fit_all_factors(
        factors_name=strategy,
        dataset=list(documents),
        per_device_batch_size=batch_size,
        factor_args=FactorArguments(strategy=strategy),
        overwrite_output_dir=True,
    )
    analyzer.compute_pairwise_scores(
        scores_name=strategy,
        factors_name=strategy,
        query_dataset=list(queries),
        train_dataset=list(documents),
        per_device_query_batch_size=min(batch_size, len(queries)),
        per_device_train_batch_size=batch_size,
        score_args=ScoreArguments(),
        overwrite_output_dir=True,
    )
    scores = analyzer.load_pairwise_scores(strategy)  # the call above returns nothing when it computes them
    analyzer.compute_self_scores(
        scores_name=f"{strategy}_self",
        factors_name=strategy,
        train_dataset=list(documents),
        per_device_train_batch_size=batch_size,
        score_args=ScoreArguments(),
        overwrite_output_dir=True,
    )
    own = analyzer.load_self_scores(f"{strategy}_self")
    return scores["all_modules"].float().cpu(), own["all_modules"].float().cpu()


def relative_scores(scores: torch.Tensor, self_scores: torch.Tensor) -> torch.Tensor:
    """RelatIF's ``score(q, d) / sqrt(self(d))`` (Barshan et al., 2020); a self-influence at or below 0 (only
    numerical noise: the preconditioner is positive definite) counts as the smallest positive one.

    >>> relative_scores(torch.tensor([[4.0, 4.0]]), torch.tensor([16.0, 1.0])).tolist()
    [[1.0, 4.0]]
    """
    positive = self_scores[self_scores > 0]
    floor = positive.min() if positive.numel() else torch.tensor(1.0)
    return scores / self_scores.clamp_min(floor).sqrt()
