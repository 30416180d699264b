"""Length buckets: TRL's log-prob passes scored on length-sorted groups give the same values as TRL's padded
batch, through the real GRPOTrainer subclass the GRPO stage trains with."""

import pytest
import torch

from rl_reasoner.buckets import bucketed_logps, length_buckets
from rl_reasoner.tiny_model import save_tiny_model


def test_buckets_hold_every_row_once_longest_first():
    lengths = [3, 9, 1, 9, 4, 7, 2]
    buckets = length_buckets(lengths, 3)
    assert sorted(i for b in buckets for i in b) == list(range(len(lengths)))
    assert [len(b) for b in buckets] == [3, 3, 1]
    flat = [lengths[i] for b in buckets for i in b]
    assert flat == sorted(lengths, reverse=True)


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    from datasets import Dataset
    from trl import GRPOConfig

    from rl_reasoner.stages.grpo import _trainer_class

    folder = save_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    args = GRPOConfig(
        output_dir=str(tmp_path_factory.mktemp("out")), use_cpu=True, bf16=False, report_to=[],
        per_device_train_batch_size=4, num_generations=2, max_completion_length=8,
    )
    dataset = Dataset.from_list([{"prompt": "1+2=?\n"}] * 4)
    return _trainer_class()(
        model=str(folder), reward_funcs=[lambda completions, **_: [0.0] * len(completions)], args=args,
        train_dataset=dataset,
    )


def _batch(lengths, prompt_width=5, vocab=40, seed=0):
    """Left-padded prompts and right-padded completions of the given lengths, as TRL builds them."""
    gen = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.randint(4, vocab, (len(lengths), prompt_width + width), generator=gen)
    mask = torch.ones_like(ids)
    for row, n in enumerate(lengths):
        mask[row, : row % 3] = 0  # prompt padding on the left
        mask[row, prompt_width + n :] = 0
        ids[row, prompt_width + n :] = 0
    return ids, mask, width


@pytest.mark.parametrize("compute_entropy", [False, True])
def test_the_trainer_scores_length_buckets_as_trl_scores_the_padded_batch(trainer, compute_entropy):
    from trl import GRPOTrainer

    lengths = [3, 17, 1, 9, 17, 5, 2, 11, 4, 8, 13]  # more rows than one CPU bucket holds
    ids, mask, keep = _batch(lengths)
    model = trainer.model
    got, got_ent, _ = trainer._get_per_token_logps_and_entropies(
        model, ids, mask, keep, compute_entropy=compute_entropy
    )
    want, want_ent, _ = GRPOTrainer._get_per_token_logps_and_entropies(
        trainer, model, ids, mask, keep, compute_entropy=compute_entropy
    )
    real = mask[:, -keep:].bool()
    assert got.shape == want.shape
    assert torch.allclose(got[real], want[real], atol=1e-5)
    assert (got[~real] == 0).all()  # cut columns come back as zeros, which the completion mask drops
    if compute_entropy:
        assert torch.allclose(got_ent[real], want_ent[real], atol=1e-5)


def test_bucketed_logps_calls_the_scorer_on_cut_groups_only():
    lengths = [2, 6, 1, 6, 3]
    ids, mask, keep = _batch(lengths, prompt_width=3)
    seen = []

    def score(part_ids, part_mask, width):
        seen.append((part_ids.shape[0], part_ids.shape[1], width))
        return part_ids[:, -width:].float(), None

    logps, entropies = bucketed_logps(score, ids, mask, keep, rows=2, compute_entropy=False)
    assert seen == [(2, 3 + 6, 6), (2, 3 + 3, 3), (1, 3 + 1, 1)]
    assert entropies is None
    real = mask[:, -keep:].bool()
    assert torch.equal(logps[real], ids[:, -keep:].float()[real])  # every row back in its place
