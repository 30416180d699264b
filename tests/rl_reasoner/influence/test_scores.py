"""EK-FAC scores (kronfluence) and the gradient baseline on a 2-layer tiny model and six documents, and
``rl-reasoner influence`` end to end on the smoke run. Skipped without the ``influence`` extra."""

import json

import numpy as np
import pytest

pytest.importorskip("kronfluence")

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

from rl_reasoner.influence.ekfac import pairwise_scores, relative_scores  # noqa: E402
from rl_reasoner.influence.examples import IGNORE, encode, tracked_modules  # noqa: E402
from rl_reasoner.influence.gradsim import gradient_similarity  # noqa: E402
from rl_reasoner.influence.report import spearman  # noqa: E402
from rl_reasoner.recipe import TinyModelSpec  # noqa: E402
from rl_reasoner.tiny_model import save_tiny_model  # noqa: E402

SUMS = [(1, 2), (3, 4), (5, 6), (7, 8), (12, 13), (2, 9)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(model folder, tokenizer, six documents ``a+b=?`` -> ``\\boxed{a+b}``)."""
    torch.set_num_threads(1)
    folder = save_tiny_model(
        tmp_path_factory.mktemp("tiny") / "model",
        TinyModelSpec(layers=2, hidden=32, heads=2, intermediate=64, max_positions=256),
    )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    docs = [encode(tokenizer, f"{a}+{b}=?\n", f"<think>\n</think>\n\\boxed{{{a + b}}}") for a, b in SUMS]
    return folder, tokenizer, docs


def test_encode_masks_the_prompt_and_ends_with_eos(tiny):
    _, tokenizer, docs = tiny
    prompt_len = len(tokenizer("1+2=?\n", add_special_tokens=False)["input_ids"])
    assert docs[0]["labels"][:prompt_len] == [IGNORE] * prompt_len
    assert docs[0]["labels"][prompt_len:] == docs[0]["input_ids"][prompt_len:]
    assert docs[0]["input_ids"][-1] == tokenizer.eos_token_id


def test_kronfluence_without_preconditioning_equals_the_gradient_dot_product(tiny, tmp_path):
    """Two independent computations of grad L(q) . grad L(d): ours (autograd) and kronfluence's identity."""
    folder, tokenizer, docs = tiny
    model = AutoModelForCausalLM.from_pretrained(folder)
    modules = tracked_modules(model)
    assert len(modules) == 14  # 2 layers x (q, k, v, o, gate, up, down)
    ours = gradient_similarity(model, modules, docs, docs[:3], pad_id=tokenizer.pad_token_id)
    theirs, own = pairwise_scores(
        AutoModelForCausalLM.from_pretrained(folder),
        modules,
        docs,
        docs[:3],
        tmp_path,
        pad_id=tokenizer.pad_token_id,
        strategy="identity",
        batch_size=4,
    )
    assert theirs.shape == ours["dot"].shape == (3, 6)
    torch.testing.assert_close(theirs, ours["dot"], rtol=1e-3, atol=1e-3)
    assert torch.allclose(ours["cosine"].diagonal(), torch.ones(3), atol=1e-5)
    # unpreconditioned self-influence is the squared gradient norm, so the relative score is the cosine
    # times the query's norm
    torch.testing.assert_close(own[:3], theirs.diagonal(), rtol=1e-3, atol=1e-3)
    ratio = relative_scores(theirs, own) / ours["cosine"]
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio), rtol=1e-3, atol=1e-3)


def test_ekfac_ranks_each_document_first_for_itself_and_differs_from_the_baseline(tiny, tmp_path):
    folder, tokenizer, docs = tiny
    model = AutoModelForCausalLM.from_pretrained(folder)
    modules = tracked_modules(model)
    grads = gradient_similarity(model, modules, docs, docs, pad_id=tokenizer.pad_token_id)
    ekfac, own = pairwise_scores(
        AutoModelForCausalLM.from_pretrained(folder),
        modules,
        docs,
        docs,
        tmp_path,
        pad_id=tokenizer.pad_token_id,
        batch_size=4,
    )
    assert ekfac.argmax(dim=1).tolist() == list(range(len(docs)))
    torch.testing.assert_close(own, ekfac.diagonal(), rtol=1e-3, atol=1e-3)  # a document against itself
    assert (tmp_path / "influence" / "factors_ekfac" / "lambda_matrix.safetensors").is_file()  # kept
    # a Hessian that is not a multiple of the identity reorders the documents somewhere
    rhos = [spearman(e.tolist(), g.tolist()) for e, g in zip(ekfac, grads["dot"], strict=True)]
    assert min(rhos) < 0.99


def test_the_fits_sampled_labels_come_from_the_seed_so_a_rerun_scores_the_same(tiny, tmp_path):
    folder, tokenizer, docs = tiny
    models = [AutoModelForCausalLM.from_pretrained(folder) for _ in range(3)]
    torch.manual_seed(123)
    state = torch.get_rng_state()
    fits = [dict(workdir=tmp_path / f"{i}", seed=seed, pad_id=tokenizer.pad_token_id, batch_size=4)
            for i, seed in enumerate((0, 0, 1))]  # fmt: skip
    first, again, other = (
        pairwise_scores(m, tracked_modules(m), docs, docs, **kw) for m, kw in zip(models, fits, strict=True)
    )
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random state is untouched
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[0], other[0])  # the seed is what made them equal


def test_influence_command_writes_scores_and_reports(sft_smoke_run, run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "influence"
    args = ("influence", str(sft_smoke_run), "--docs", "12", "--queries", "add:2", "--out", str(out))
    args += ("--max-new-tokens", "24", "--top-k", "3")
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "influence.json").read_text())
    assert len(report["documents"]) == 12 and len(report["queries"]) == 2
    scores = np.load(out / "scores.npz")
    assert all(scores[m].shape == (2, 12) for m in ("ekfac", "ekfac_relative", "grad_dot", "grad_cosine"))
    ids = [d["id"] for d in report["documents"]]
    assert list(scores["document_ids"]) == ids
    sft_rows = {
        r["id"]: r for r in map(json.loads, (sft_smoke_run / "data" / "sft.jsonl").read_text().splitlines())
    }
    markdown = (out / "influence.md").read_text()
    for i, query in enumerate(report["queries"]):
        top = query["top"]["ekfac"]
        assert [t["id"] for t in top] == [ids[j] for j in np.argsort(-scores["ekfac"][i], kind="stable")[:3]]
        assert query["prompt"] in markdown and sft_rows[top[0]["id"]]["completion"] in markdown
    assert set(report["agreement_with_ekfac"]) == {"ekfac_relative", "grad_dot", "grad_cosine"}
    again = run_cli(*args)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_fact_queries_come_from_the_factual_split_and_fact_documents_are_scored(
    run_cli, tmp_path, monkeypatch
):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    smoke = "recipes/tiny-arith/smoke.yaml"
    done = run_cli(
        "run",
        smoke,
        "--runs-dir",
        str(tmp_path),
        "--stages",
        "data,sft",
        "report_to=none",
        "data.facts.keys=4",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run, out = tmp_path / "tiny-arith-smoke", tmp_path / "influence"
    done = run_cli(
        "influence",
        str(run),
        "--queries",
        "fact:2",
        "add:1",
        "--docs",
        "19",
        "--out",
        str(out),
        "--max-new-tokens",
        "16",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "influence.json").read_text())
    assert [q["kind"] for q in report["queries"]] == ["fact", "fact", "add"]
    facts = {json.loads(line)["id"]: json.loads(line) for line in (run / "data" / "eval_facts.jsonl").open()}
    assert all(facts[q["id"]]["prompt"] == q["prompt"] for q in report["queries"][:2])
    kinds = [d["kind"] for d in report["documents"]]
    assert len(kinds) == 19 and kinds.count("fact") == 3  # 12 of 76 rows are facts: 3 of 19, stratified
    assert np.load(out / "scores.npz")["ekfac"].shape == (3, 19)
