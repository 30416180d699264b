"""The plain baseline: similarity of per-example loss gradients, no Hessian (no kronfluence needed).

Over the same parameters EK-FAC tracks (weights and biases of the decoder's linear layers), with the same
losses (:func:`rl_reasoner.influence.examples.completion_loss`): ``dot[q, d] = grad L(q) . grad L(d)`` (what
an influence function reduces to with the Hessian replaced by the identity) and ``cosine[q, d]``, the same
normalised by both gradient norms. Documents are streamed one at a time, so memory holds only the queries'
gradients.
"""

from __future__ import annotations

from collections.abc import Sequence

from rl_reasoner.influence.examples import collate, completion_loss


def _parameters(model, modules: Sequence[str]) -> list:
    named = dict(model.named_modules())
    return [p for name in modules for p in named[name].parameters(recurse=False)]


def _gradient(model, params: list, example: dict, pad_id: int):
    """The flattened gradient of one example's completion loss over ``params`` (P,)."""
    import torch

    loss = completion_loss(model, collate([example], pad_id))
    grads = torch.autograd.grad(loss, params)
    return torch.cat([g.reshape(-1) for g in grads])


def gradient_similarity(
    model, modules: Sequence[str], documents: Sequence[dict], queries: Sequence[dict], *, pad_id: int
) -> dict:
    """``{"dot": (Q, D) tensor, "cosine": (Q, D) tensor}`` for :func:`~rl_reasoner.influence.examples.encode`
    dicts. ``model`` must not be wrapped by kronfluence (it freezes parameters; pass a fresh copy)."""
    import torch

    model.eval()
    params = _parameters(model, modules)
    for p in params:
        p.requires_grad_(True)
    q_grads = torch.stack([_gradient(model, params, q, pad_id) for q in queries])  # (Q, P)
    q_norms = q_grads.norm(dim=1)
    dot = torch.zeros(len(queries), len(documents))
    cosine = torch.zeros_like(dot)
    for j, doc in enumerate(documents):
        g = _gradient(model, params, doc, pad_id)  # (P,)
        dot[:, j] = q_grads @ g
        cosine[:, j] = dot[:, j] / (q_norms * g.norm()).clamp_min(1e-30)
    return {"dot": dot, "cosine": cosine}
