"""The exported model's ``README.md``: Hub metadata (``huggingface_hub.ModelCard``), then what the run knows.

Sections appear only when their source exists: the recipe (the run's ``manifest.json``), the pipeline's
eval table (``eval/table.md``), this model's eval numbers (a ``metrics.json`` as ``rl-reasoner eval``
writes it: the run's ``eval/<stage>/metrics.json``, or the one given to ``export --eval``), and the
training curve (``trainer_state.json`` log history, plotted to ``training_curve.png``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import yaml
from huggingface_hub import ModelCard, ModelCardData

from rl_reasoner.model_ref import ModelRef, is_hub_id

CURVE_FILE = "training_curve.png"
METRICS_FILE = "metrics.json"  # what ``rl-reasoner eval --out DIR`` and the pipeline's eval stage write
# (label, log_history key) pairs plotted when present: GRPO's reward and length, else SFT's loss
CURVE_KEYS = (("reward", "reward"), ("mean completion tokens", "completions/mean_length"), ("loss", "loss"))
_NUMBERS = ("pass@1", "mean_tokens", "truncation_rate")  # what the card shows from a metrics summary


def trainer_state(folder: Path) -> dict | None:
    """``trainer_state.json`` of a model folder, else of its newest ``checkpoint-N`` (stages save there)."""
    from transformers.trainer_utils import get_last_checkpoint

    path = folder / "trainer_state.json"
    if not path.exists() and folder.is_dir():
        newest = get_last_checkpoint(str(folder))  # os.listdir: only for a folder that exists
        path = Path(newest) / "trainer_state.json" if newest else path
    return json.loads(path.read_text()) if path.exists() else None


def _series(history: Sequence[dict], key: str) -> list[tuple[int, float]]:
    return [(h["step"], h[key]) for h in history if isinstance(h.get(key), (int, float)) and "step" in h]


def plot_training_curve(history: Sequence[dict], path: Path) -> Path | None:
    """One panel per logged series in :data:`CURVE_KEYS` (reward, completion length, loss) against step."""
    panels = [(label, _series(history, key)) for label, key in CURVE_KEYS]
    panels = [(label, points) for label, points in panels if points]
    if not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False)
    for ax, (label, points) in zip(axes[0], panels, strict=True):
        ax.plot([s for s, _ in points], [v for _, v in points], marker="o", markersize=3)
        ax.set_xlabel("step")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _has_numbers(summary: object) -> bool:
    return isinstance(summary, dict) and all(isinstance(summary.get(k), (int, float)) for k in _NUMBERS)


def load_eval_metrics(path: Path) -> dict | None:
    """The eval numbers at ``path`` (a ``metrics.json``, or a folder holding one) in the schema
    ``rl-reasoner eval`` writes (``overall`` with pass@1, mean_tokens, truncation_rate; ``levels``;
    ``config``); None when there is no such file or it is not in that schema (an old run's eval)."""
    path = path / METRICS_FILE if path.is_dir() else path
    try:
        metrics = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return metrics if isinstance(metrics, dict) and _has_numbers(metrics.get("overall")) else None


def run_eval_metrics(source: ModelRef) -> dict | None:
    """The pipeline's eval numbers for this model, ``<run>/eval/<stage>/metrics.json``, when it has them."""
    if source.run_dir is None or source.stage is None:
        return None
    return load_eval_metrics(source.run_dir / "eval" / source.stage / METRICS_FILE)


def _hub_base_model(recipe: dict | None) -> str | None:
    """The recipe's base model when it is a Hub id (not ``tiny``, not a local folder)."""
    base = ((recipe or {}).get("model") or {}).get("base")
    hub = isinstance(base, str) and is_hub_id(base, owner_required=True) and not Path(base).exists()
    return base if hub else None


def card_metadata(recipe: dict | None, stage: str | None, datasets: Sequence[str]) -> ModelCardData:
    """The card's YAML front matter: what the Hub indexes (library, task, base model, tags, datasets)."""
    tags = ["rl-reasoner", "trl", "reasoning", "concise-reasoning"]
    tags += ["grpo"] if stage and stage.startswith("grpo") else ["sft"] if stage == "sft" else []
    return ModelCardData(
        library_name="transformers",
        pipeline_tag="text-generation",
        base_model=_hub_base_model(recipe),
        tags=tags,
        datasets=list(datasets) or None,
    )


def _header(source: ModelRef, title: str, has_chat_template: bool) -> list[str]:
    origin = f" (stage `{source.stage}` of run `{source.run_dir.name}`)" if source.run_dir else ""
    return [
        f"# {title}",
        "",
        f"Exported with `rl-reasoner export` from `{source.path}`{origin}. rl-reasoner trains models to "
        "reason correctly *and* concisely: cold-start SFT, then GRPO with a verified-answer reward plus a "
        "length term.",
        "",
        "## Usage",
        "",
        "```python",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        "",
        f'tokenizer = AutoTokenizer.from_pretrained("{title}")',
        f'model = AutoModelForCausalLM.from_pretrained("{title}")',
        'inputs = tokenizer("12+34=?\\n", return_tensors="pt")',
        "print(tokenizer.decode(model.generate(**inputs, max_new_tokens=256)[0], skip_special_tokens=True))",
        "```",
        "",
        f"Chat template: {'included (`tokenizer.apply_chat_template`)' if has_chat_template else 'none'}.",
    ]


def _training_summary(recipe: dict, stage: str | None) -> list[str]:
    model = recipe.get("model") or {}
    lines = [f"- base model: `{model.get('base')}`", f"- seed: {recipe.get('seed')}"]
    if stage and stage.startswith("grpo"):
        rewards = recipe.get("rewards", [])
        if stage.startswith("grpo-"):
            baseline = (recipe.get("baselines") or {}).get(stage.removeprefix("grpo-"), {})
            rewards = baseline.get("rewards", rewards)
        from_base = model.get("grpo_from") == "base"
        start = "the base model (no SFT stage)" if from_base else "the run's SFT checkpoint"
        terms = ", ".join(f"`{r.get('name')}` x {r.get('weight')}" for r in rewards)
        lines.append(f"- GRPO from {start}; rewards: {terms}")
    return lines


def _training_section(manifest: dict, stage: str | None) -> list[str]:
    recipe = manifest.get("recipe")
    if not recipe:
        return []
    lines = ["", "## Training", "", *_training_summary(recipe, stage)]
    if manifest.get("versions"):
        lines.append("- libraries: " + ", ".join(f"{k} {v}" for k, v in manifest["versions"].items()))
    if manifest.get("git_commit"):
        lines.append(f"- rl-reasoner commit: `{manifest['git_commit']}`")
    recipe_yaml = yaml.safe_dump(recipe, sort_keys=False).strip()
    return [*lines, "", "Recipe (from the run's `manifest.json`):", "", "```yaml", recipe_yaml, "```"]


def _evaluation_section(source: ModelRef) -> list[str]:
    table = source.run_dir / "eval" / "table.md" if source.run_dir else None
    if not (table and table.exists()):
        return []
    row = f"This model is the `{source.stage}` row."
    return ["", "## Evaluation", "", row, "", table.read_text().strip()]


def _eval_settings(config: dict) -> str:
    """What the numbers were measured on: data source, greedy or sampled, token budget (when recorded)."""
    data = config.get("data")
    source = data.get("source") if isinstance(data, dict) else None
    temperature, n = config.get("temperature"), config.get("n", 1)
    sampling = "greedy" if not temperature else f"{n} sample(s) per prompt at temperature {temperature}"
    budget = f", max {config['max_new_tokens']} new tokens" if config.get("max_new_tokens") else ""
    return (f"`{source}`, " if source else "") + sampling + budget


def _eval_lines(metrics: dict) -> list[str]:
    o = metrics["overall"]
    prompts = f", {o['prompts']} prompts" if isinstance(o.get("prompts"), int) else ""
    lines = [
        f"- eval ({_eval_settings(metrics.get('config') or {})}{prompts}): pass@1 {o['pass@1']:.1%}, "
        f"{o['mean_tokens']:.1f} completion tokens on average, {o['truncation_rate']:.1%} truncated"
    ]
    for level, s in (metrics.get("levels") or {}).items():
        if _has_numbers(s):
            lines.append(f"  - level {level}: {s['pass@1']:.1%} · {s['mean_tokens']:.1f} tokens")
    return lines


def _length_section(metrics: dict | None, history: Sequence[dict]) -> list[str]:
    lines = _eval_lines(metrics) if metrics else []
    lengths = _series(history, "completions/mean_length")
    if lengths:
        lines.append(
            f"- training rollouts: {lengths[0][1]:.1f} mean completion tokens at step {lengths[0][0]}, "
            f"{lengths[-1][1]:.1f} at step {lengths[-1][0]}"
        )
    return ["", "## Length statistics", "", *lines] if lines else []


def _curve_section(history: Sequence[dict], out: Path) -> list[str]:
    if not (history and plot_training_curve(history, out / CURVE_FILE)):
        return []
    return ["", "## Training curve", "", f"![training curve]({CURVE_FILE})"]


def write_model_card(
    source: ModelRef,
    out: Path,
    *,
    title: str,
    has_chat_template: bool,
    datasets: Sequence[str] = (),
    metrics: dict | None = None,
) -> Path:
    """Writes ``out/README.md`` (and ``out/training_curve.png`` when there is a log history).

    ``metrics``: eval numbers from :func:`load_eval_metrics`; by default the run's (:func:`run_eval_metrics`).
    """
    manifest = source.manifest() or {}
    state = trainer_state(Path(source.path)) if source.is_local else None
    history = (state or {}).get("log_history", [])
    body = [
        *_header(source, title, has_chat_template),
        *_training_section(manifest, source.stage),
        *_evaluation_section(source),
        *_length_section(metrics or run_eval_metrics(source), history),
        *_curve_section(history, out),
    ]
    meta = card_metadata(manifest.get("recipe"), source.stage, datasets)
    card = ModelCard(f"---\n{meta.to_yaml()}\n---\n\n" + "\n".join(body) + "\n")
    path = out / "README.md"
    card.save(path)
    return path
