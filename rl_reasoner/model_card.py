"""The exported model's ``README.md``: YAML front-matter for the Hub, then what the run knows about it.

Sections appear only when their source exists: the recipe (the run's ``manifest.json``), the pipeline's
eval table and this model's length statistics (``eval/results.json``, ``eval/table.md``), and the
training curve (``trainer_state.json`` log history, plotted to ``training_curve.png``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from rl_reasoner.model_ref import ModelRef

CURVE_FILE = "training_curve.png"
_HUB_ID_RE = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")
# (label, log_history key) pairs plotted when present: GRPO's reward and length, else SFT's loss
CURVE_KEYS = (("reward", "reward"), ("mean completion tokens", "completions/mean_length"), ("loss", "loss"))


def trainer_state(folder: Path) -> dict | None:
    """``trainer_state.json`` of a model folder, or of its newest ``checkpoint-N`` (the stages save there)."""
    candidates = [folder / "trainer_state.json"]
    checkpoints = [p for p in folder.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    candidates += [
        p / "trainer_state.json" for p in sorted(checkpoints, key=lambda p: -int(p.name.split("-")[-1]))
    ]
    for path in candidates:
        if path.exists():
            return json.loads(path.read_text())
    return None


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


def _front_matter(recipe: dict | None, stage: str | None, datasets: Sequence[str]) -> dict:
    meta: dict = {"library_name": "transformers", "pipeline_tag": "text-generation"}
    base = ((recipe or {}).get("model") or {}).get("base")
    if isinstance(base, str) and _HUB_ID_RE.fullmatch(base) and not Path(base).exists():
        meta["base_model"] = base
    tags = ["rl-reasoner", "trl", "reasoning", "concise-reasoning"]
    tags += ["grpo"] if stage and stage.startswith("grpo") else ["sft"] if stage == "sft" else []
    meta["tags"] = tags
    if datasets:
        meta["datasets"] = list(datasets)
    return meta


def _training_summary(recipe: dict, stage: str | None) -> list[str]:
    rewards = recipe.get("rewards", [])
    if stage and stage.startswith("grpo-"):
        rewards = (recipe.get("baselines") or {}).get(stage.removeprefix("grpo-"), {}).get("rewards", rewards)
    lines = [f"- base model: `{(recipe.get('model') or {}).get('base')}`", f"- seed: {recipe.get('seed')}"]
    if stage and stage.startswith("grpo"):
        terms = ", ".join(f"`{r.get('name')}` x {r.get('weight')}" for r in rewards)
        lines.append(f"- GRPO from the run's SFT checkpoint; rewards: {terms}")
    return lines


def _length_stats(run_dir: Path | None, stage: str | None, history: Sequence[dict]) -> list[str]:
    lines = []
    results_path = run_dir / "eval" / "results.json" if run_dir else None
    if results_path and results_path.exists() and stage:
        summary = json.loads(results_path.read_text()).get("models", {}).get(stage)
        if summary:
            o = summary["overall"]
            lines.append(
                f"- held-out eval (greedy): accuracy {o['accuracy']:.1%}, {o['mean_tokens']:.1f} completion "
                f"tokens on average, {o['truncation_rate']:.1%} truncated"
            )
            for level, s in summary.get("levels", {}).items():
                lines.append(f"  - level {level}: {s['accuracy']:.1%} · {s['mean_tokens']:.1f} tokens")
    lengths = _series(history, "completions/mean_length")
    if lengths:
        lines.append(
            f"- training rollouts: {lengths[0][1]:.1f} mean completion tokens at step {lengths[0][0]}, "
            f"{lengths[-1][1]:.1f} at step {lengths[-1][0]}"
        )
    return lines


def write_model_card(
    source: ModelRef, out: Path, *, title: str, has_chat_template: bool, datasets: Sequence[str] = ()
) -> Path:
    """Writes ``out/README.md`` (and ``out/training_curve.png`` when there is a log history)."""
    manifest = source.manifest() or {}
    recipe = manifest.get("recipe")
    state = trainer_state(Path(source.path)) if source.is_local else None
    history = (state or {}).get("log_history", [])
    front = yaml.safe_dump(_front_matter(recipe, source.stage, datasets), sort_keys=False).strip()
    lines = [
        "---",
        front,
        "---",
        "",
        f"# {title}",
        "",
        f"Exported with `rl-reasoner export` from `{source.path}`"
        + (f" (stage `{source.stage}` of run `{source.run_dir.name}`)" if source.run_dir else "")
        + ". rl-reasoner trains models to reason correctly *and* concisely: cold-start SFT, then GRPO with a "
        "verified-answer reward plus a length term.",
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
    if recipe:
        versions = manifest.get("versions", {})
        lines += ["", "## Training", "", *_training_summary(recipe, source.stage)]
        if versions:
            lines.append("- libraries: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
        if manifest.get("git_commit"):
            lines.append(f"- rl-reasoner commit: `{manifest['git_commit']}`")
        lines += [
            "",
            "Recipe (from the run's `manifest.json`):",
            "",
            "```yaml",
            yaml.safe_dump(recipe, sort_keys=False).strip(),
            "```",
        ]
    table = source.run_dir / "eval" / "table.md" if source.run_dir else None
    if table and table.exists():
        lines += [
            "",
            "## Evaluation",
            "",
            f"This model is the `{source.stage}` row.",
            "",
            table.read_text().strip(),
        ]
    length = _length_stats(source.run_dir, source.stage, history)
    if length:
        lines += ["", "## Length statistics", "", *length]
    if history and plot_training_curve(history, out / CURVE_FILE):
        lines += ["", "## Training curve", "", f"![training curve]({CURVE_FILE})"]
    path = out / "README.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def front_matter(readme: str) -> dict:
    """The YAML front-matter of a model card (what the Hub reads)."""
    match = re.match(r"---\n(.*?)\n---\n", readme, re.S)
    return yaml.safe_load(match[1]) if match else {}
