"""Strict YAML recipes: data only, unknown keys are errors, defaults live only in the dataclasses below
(``sft``/``grpo`` take trl.SFTConfig/GRPOConfig fields; ``inherit: other.yaml`` deep-merges over a file).
Values are checked against the dataclasses' annotations by ``rl_reasoner.recipe_types``."""

from __future__ import annotations

import copy
import dataclasses
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rl_reasoner.data.arith import DEFAULT_OPS, OPS, STYLES
from rl_reasoner.data.facts import PHRASINGS
from rl_reasoner.data.hub import R1_ZERO_TEMPLATE
from rl_reasoner.data.revthink import OBJECTIVES
from rl_reasoner.data.tasks import TASKS
from rl_reasoner.data.teacher import SELECTIONS
from rl_reasoner.recipe_files import RecipeError, apply_override, parse_override, read_recipe_file
from rl_reasoner.recipe_files import check as _check
from rl_reasoner.recipe_grpo import GateSection, ReplaySection
from rl_reasoner.recipe_types import build_section, checked, unknown_key

__all__ = [
    "GateSection", "RecipeError", "ReplaySection", "load_recipe", "parse_override", "recipe_from_dict",
    "recipe_to_dict",
]

WandbMode = Literal["offline", "online", "disabled"]
WANDB_MODES: tuple[str, ...] = typing.get_args(WandbMode)
# Trainer fields the pipeline runner derives (from runs/<name>/ and 'rewards'); a recipe may not set them.
RUNNER_MANAGED: tuple[str, ...] = ("output_dir", "run_name", "resume_from_checkpoint", "reward_weights")
_NAME_RE = re.compile(r"(?!\.+$)[A-Za-z0-9._-]+")  # not only dots: names are directories under runs/


def _check_positive(obj: object, *names: str) -> None:
    for name in names:
        _check(getattr(obj, name) > 0, f"'{name}' must be > 0, got {getattr(obj, name)!r}")


@dataclass
class TinyModelSpec:
    layers: int = 4
    """Number of transformer decoder layers."""
    hidden: int = 128
    """Hidden size (must be divisible by ``heads``)."""
    heads: int = 4
    """Number of attention heads."""
    intermediate: int = 512
    """Width of the MLP inner layer."""
    max_positions: int = 512
    """Maximum sequence length (prompt + completion) the model supports."""

    def __post_init__(self) -> None:
        _check_positive(self, *(f.name for f in dataclasses.fields(self)))
        _check(self.hidden % self.heads == 0, f"'hidden' ({self.hidden}) must be divisible by 'heads' "
               f"({self.heads})")


@dataclass
class ModelSection:
    base: str = "tiny"
    """"tiny" builds the offline tiny model from ``tiny``; anything else is a local path or hub id."""
    tiny: TinyModelSpec = field(default_factory=TinyModelSpec)
    """Shape of the tiny model; only used when ``base`` is "tiny"."""
    grpo_from: Literal["sft", "base"] = "sft"
    """GRPO starts from the SFT stage's model, or from ``base`` itself (no SFT stage: R1-Zero, distilled)."""


@dataclass
class HubDataSection:
    dataset: str = ""
    """``datasets.load_dataset`` id (e.g. open-r1/OpenR1-Math-220k) or a local .jsonl/.json/.parquet/.csv."""
    config: str | None = None
    """Dataset configuration (subset) name, if it has several."""
    split: str = "train"
    """Split the SFT and GRPO rows come from."""
    eval_dataset: str | None = None
    """Where the eval rows come from (hub id or local file, same column names); None: rows of ``dataset``
    ``split`` are held out (never trained on)."""
    eval_config: str | None = None
    """Configuration of ``eval_dataset``."""
    eval_split: str = "test"
    """Split of ``eval_dataset`` (a local file has one split: the name does not matter)."""
    question_column: str = "problem"
    """Column with the question, put into ``prompt_template``."""
    answer_column: str = "answer"
    """Column with the gold final answer the verifier compares against."""
    completion_column: str | None = None
    """Column with a full reasoning trace (SFT rows); None: no SFT rows (use ``model.grpo_from: base``)."""
    level_column: str | None = None
    """Difficulty column, needed in the eval rows (eval reports per level); None: every row is level 1."""
    prompt_template: str = R1_ZERO_TEMPLATE
    """Prompt text with one ``{question}`` placeholder, replaced verbatim (other braces are plain text)."""


@dataclass
class TeacherSection:
    model: str | None = None
    """Model that writes the SFT traces (a local folder or hub id, see rl_reasoner/data/teacher.py); None:
    the task's own traces (off)."""
    k: int = 8
    """Samples per SFT prompt (>= 1)."""
    select: str = "shortest_correct"
    """Which sample a row keeps, one of ``SELECTIONS``: ``shortest_correct`` (rows without a correct sample
    are dropped), ``shortest_reliable`` (the shortest correct sample longer than every wrong one),
    ``level_reliable`` (the shortest correct sample at least as long as its level's reliable length), or the
    controls ``first`` and ``shortest`` (right or wrong)."""
    margin: float = 0.05
    """``level_reliable``: a length bin of a level's samples is reliable when its accuracy is at most this
    much below the level's best bin (in [0, 1))."""
    temperature: float = 1.0
    """Sampling temperature (> 0)."""
    max_new_tokens: int = 256
    """Token budget per sample (>= 1); a sample that runs past it never counts as correct."""
    batch_size: int = 64
    """Sequences (prompts x k) per generation batch (>= 1)."""
    samples: str | None = None
    """``data/teacher-samples.jsonl`` of an earlier data stage with this teacher, prompts, temperature and
    token budget: each row selects from the first ``k`` of its samples there instead of sampling again
    (k = 1, 4, 8 from one draw of 8 are then nested). None: sample."""

    def __post_init__(self) -> None:
        _check(self.model is None or bool(self.model.strip()), "'model' must be a folder or hub id, or null "
               "(the task's own traces)")
        _check(self.samples is None or self.model is not None, "'samples' re-selects an earlier draw of "
               "data.teacher.model's: set 'model' to the teacher that wrote them, or remove 'samples'")
        _check(self.k >= 1, f"'k' (samples per prompt) must be >= 1, got {self.k}")
        _check(self.select in SELECTIONS, f"'select' must be one of {list(SELECTIONS)}, got {self.select!r}")
        _check(0 <= self.margin < 1, f"'margin' must be in [0, 1) (an accuracy gap), got {self.margin}")
        _check(self.temperature > 0, f"'temperature' must be > 0 (it samples), got {self.temperature}")
        _check(self.max_new_tokens >= 1, f"'max_new_tokens' must be >= 1, got {self.max_new_tokens}")
        _check(self.batch_size >= 1, f"'batch_size' must be >= 1, got {self.batch_size}")


@dataclass
class RevThinkSection:
    objectives: list[str] | None = None
    """RevThink SFT objectives among ``OBJECTIVES`` (``forward``: question -> trace, ``question``: question
    -> backward question, ``backward``: backward question -> its trace), no repeats; None: off (see
    rl_reasoner/data/revthink.py)."""
    noise: float = 0.0
    """Probability in [0, 1) that each forward and each backward trace gets one wrong column result."""
    filter: bool = True
    """Keep a problem only when its forward and backward traces both verify (off: keep every problem)."""

    def __post_init__(self) -> None:
        objectives = self.objectives
        _check(objectives is None or (bool(objectives) and set(objectives) <= set(OBJECTIVES)
                                      and len(set(objectives)) == len(objectives)),
               f"'objectives' must be distinct names among {list(OBJECTIVES)} (at least one), or null (off), "
               f"got {objectives}")
        _check(0 <= self.noise < 1,
               f"'noise' (the chance a trace is corrupted) must be in [0, 1), got {self.noise}")


@dataclass
class FactsSection:
    keys: int = 0
    """Keys of a fixed random table f(key) -> value stated in the SFT rows, with one query per key in an
    ``eval_facts`` split (``arith`` only; see rl_reasoner/data/facts.py); 0: off."""
    documents_per_key: int = 3
    """Paraphrased SFT documents per key, each in another phrasing (1 to the number of ``PHRASINGS`` − 1: the
    key's query is asked in one of the others)."""

    def __post_init__(self) -> None:
        _check(self.keys >= 0, f"'facts.keys' must be >= 0 (0: off), got {self.keys}")
        _check(1 <= self.documents_per_key < len(PHRASINGS),
               f"'facts.documents_per_key' must be in 1..{len(PHRASINGS) - 1} (one phrasing each, and one "
               "left for the key's query), "
               f"got {self.documents_per_key}")


@dataclass
class DataSection:
    task: str = "arith"
    """A name in ``rl_reasoner.data.tasks.TASKS``: the synthetic ``arith`` task, or ``hub`` (question/answer
    rows from a dataset, see ``hub``)."""
    levels: list[int] = field(default_factory=lambda: [1, 2, 3, 4])
    """Difficulty levels to generate, each 1..9, no repeats."""
    ops: list[str] = field(default_factory=lambda: list(DEFAULT_OPS))
    """``arith`` operations among ``OPS`` (add, sub: ``a-b`` with ``a >= b``), no repeats; each level's
    problems take them in turn (``eval_per_level`` counts all of them). Not the default: rows carry ``op``."""
    train_size: int = 20000
    """Number of SFT training examples."""
    grpo_size: int = 2000
    """Number of GRPO prompts."""
    eval_per_level: int = 100
    """Number of evaluation problems per level."""
    val_per_level: int = 0
    """Distinct validation problems per level (``data/val.jsonl``, avoiding the eval problems; all a level
    has where it has fewer; ``arith`` only): the ``gate``'s measure. 0: no split."""
    style_mix: dict[str, float] = field(default_factory=lambda: dict(direct=0.15, concise=0.25, verbose=0.6))
    """Relative weight of each SFT answer style (keys among ``STYLES``; values >= 0 with a positive sum)."""
    style_by_level: dict[int, dict[str, float]] = field(default_factory=dict)
    """Level -> its own style mix, replacing ``style_mix`` there; levels not generated are ignored."""
    teacher_slip: float = 0.0
    """Share, in [0, 1], of the SFT sums with a column summing to exactly 10 that a flawed teacher writes
    with that carry dropped, one systematic slip (``arith`` only; the weak model for search). 0: none."""
    size_line: bool = False
    """``arith`` (others ignore it): traces open with the operands' size, ``3-digit`` (data/arith.py)."""
    hub: HubDataSection = field(default_factory=HubDataSection)
    """Where ``task: hub`` reads its rows (sizes: ``train_size``, ``grpo_size``, ``eval_per_level``)."""
    teacher: TeacherSection = field(default_factory=TeacherSection)
    """A trained model that writes the SFT traces instead of the task (off while ``model`` is null)."""
    revthink: RevThinkSection = field(default_factory=RevThinkSection)
    """Reverse-thinking SFT rows and a backward eval split (``arith`` only; off while ``objectives`` is
    null)."""
    facts: FactsSection = field(default_factory=FactsSection)
    """A factual lookup task mixed into the SFT rows (``arith`` only; off while ``keys`` is 0)."""

    def __post_init__(self) -> None:
        _check(self.task in TASKS, f"unknown task {self.task!r}; valid tasks: {list(TASKS)}")
        if self.task == "hub":
            _check(bool(self.hub.dataset), "'data.task: hub' needs 'data.hub.dataset' (hub id or local file)")
            _check(self.hub.prompt_template.count("{question}") == 1,
                   "'data.hub.prompt_template' must contain '{question}' exactly once")
        levels = self.levels
        _check(bool(levels) and all(1 <= lv <= 9 for lv in levels) and len(set(levels)) == len(levels),
               f"'levels' must be distinct numbers in 1..9 (at least one), got {levels}")
        _check(bool(self.ops) and all(op in OPS for op in self.ops) and len(set(self.ops)) == len(self.ops),
               f"'ops' must be distinct operations among {list(OPS)} (at least one), got {self.ops}")
        _check(self.task == "arith" or self.ops == list(DEFAULT_OPS),
               f"'ops' only applies to 'task: arith' (task {self.task!r} has its own questions): remove it")
        _check_positive(self, "train_size", "grpo_size", "eval_per_level")
        _check(self.val_per_level >= 0 and (self.task == "arith" or not self.val_per_level),
               f"'val_per_level' must be >= 0, and 0 unless 'task: arith', got {self.val_per_level}")
        if self.revthink.objectives is not None:
            _check(self.task == "arith", f"'revthink' only applies to 'task: arith' (only it can build "
                   f"backward questions; task {self.task!r} cannot): remove data.revthink.objectives")
            _check(self.teacher.model is None, "'revthink' builds its traces from the task's, so it cannot "
                   "use data.teacher.model's: remove one of data.revthink.objectives and data.teacher.model")
        _check(0 <= self.teacher_slip <= 1 and (self.task == "arith" or not self.teacher_slip),
               f"'teacher_slip' must be in [0, 1], and 0 unless 'task: arith', got {self.teacher_slip}")
        _check(not self.size_line or (self.teacher.model is None and self.revthink.objectives is None),
               "'size_line' writes the arith task's own traces: false with a teacher or revthink")
        _check(self.task == "arith" or not self.facts.keys,
               f"'facts' only applies to 'task: arith' (task {self.task!r}): set data.facts.keys to 0")
        for where, mix in [("style_mix", self.style_mix), *self.style_by_level.items()]:
            where = where if where == "style_mix" else f"style_by_level.{where}"
            for style, weight in mix.items():
                _check(style in STYLES, f"'{where}' key {style!r} is not one of the styles {list(STYLES)}")
                _check(weight >= 0, f"'{where}' weight for {style!r} must be >= 0, got {weight}")
            _check(sum(mix.values()) > 0, f"'{where}' weights must sum to > 0, got {mix}")


@dataclass
class RewardSpec:
    name: str
    """Name of a registered reward function."""
    weight: float
    """Weight of this reward in the GRPO total."""
    params: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for the reward function."""


@dataclass
class BaselineSpec:
    rewards: list[RewardSpec]
    """Rewards of this extra GRPO run (same shape as the top-level ``rewards``)."""


@dataclass
class EvalSection:
    batch_size: int = 128
    """Generation batch size for evaluation."""
    max_new_tokens: int | None = None
    """Generation budget; None means use ``grpo.max_completion_length``."""
    oracle_threshold: float = 0.99
    """Accuracy in (0, 1] above which a level counts as solved."""
    backend: str = "hf"
    """Generation engine, a name in ``rl_reasoner.evaluation.backends.BACKENDS`` (vllm: GPU machines)."""

    def __post_init__(self) -> None:
        from rl_reasoner.evaluation.backends import BACKENDS

        _check(self.backend in BACKENDS, f"unknown eval backend {self.backend!r}; valid backends: "
               f"{list(BACKENDS)}")
        _check_positive(self, "batch_size")
        _check(self.max_new_tokens is None or self.max_new_tokens > 0,
               f"'max_new_tokens' must be > 0 or null, got {self.max_new_tokens}")
        _check(0 < self.oracle_threshold <= 1, f"'oracle_threshold' must be in (0, 1], got "
               f"{self.oracle_threshold}")


@dataclass
class WandbSection:
    project: str = "rl-reasoner"
    """Weights & Biases project name."""
    mode: WandbMode = "offline"
    """Weights & Biases mode; one of ``WANDB_MODES``."""


@dataclass
class LaunchSection:
    config_file: str | None = None
    """accelerate config (e.g. launch/accelerate/zero3.yaml) the sft/grpo stages run under, each as one
    ``accelerate launch`` subprocess; None: they run in this process. Not part of any stage fingerprint."""
    num_processes: int | None = None
    """Processes to launch, overriding the config file's ``num_processes``; None: the file's value."""

    def __post_init__(self) -> None:
        _check(self.num_processes is None or self.num_processes > 0,
               f"'num_processes' must be > 0 or null, got {self.num_processes}")
        _check(self.num_processes is None or self.config_file is not None,
               "'launch.num_processes' needs 'launch.config_file' (an accelerate config: launch/accelerate/)")


@dataclass
class Recipe:
    name: str
    """Run name, [A-Za-z0-9._-]+; outputs go to runs/<name>/."""
    seed: int = 0
    """Global random seed (>= 0)."""
    model: ModelSection = field(default_factory=ModelSection)
    """Which model to start from."""
    data: DataSection = field(default_factory=DataSection)
    """Synthetic data generation."""
    sft: dict[str, Any] = field(default_factory=dict)
    """trl.SFTConfig field -> value (except the runner-managed ``RUNNER_MANAGED`` fields)."""
    grpo: dict[str, Any] = field(default_factory=dict)
    """trl.GRPOConfig field -> value (except the runner-managed ``RUNNER_MANAGED`` fields)."""
    rewards: list[RewardSpec] = field(default_factory=lambda: [RewardSpec("accuracy", 1.0)])
    """Weighted rewards of the main GRPO run."""
    baselines: dict[str, BaselineSpec] = field(default_factory=dict)
    """Extra GRPO runs from the same SFT checkpoint, by name ([A-Za-z0-9._-]+)."""
    replay: ReplaySection = field(default_factory=ReplaySection)
    """SFT rows replayed during every GRPO run (off by default)."""
    gate: GateSection = field(default_factory=GateSection)
    """Which checkpoint every GRPO run hands on (off by default: its last)."""
    frozen: list[str] = field(default_factory=list)
    """Parameter names (dotted prefixes) that every GRPO run leaves unchanged (rl_reasoner/freeze.py)."""
    eval: EvalSection = field(default_factory=EvalSection)
    """Evaluation settings."""
    report_to: Literal["wandb", "none"] = "wandb"
    """Where training metrics go."""
    wandb: WandbSection = field(default_factory=WandbSection)
    """Weights & Biases settings (used when ``report_to`` is "wandb")."""
    launch: LaunchSection = field(default_factory=LaunchSection)
    """Run the sft/grpo stages through ``accelerate launch`` (multi-GPU, DeepSpeed, FSDP)."""

    def __post_init__(self) -> None:
        _check(self.seed >= 0, f"'seed' must be >= 0, got {self.seed}")
        for what, value in [("'name'", self.name), *(("baseline name", b) for b in self.baselines)]:
            _check(bool(_NAME_RE.fullmatch(value)), f"{what} must match [A-Za-z0-9._-]+ and not be only dots "
                   f"(it names a directory under runs/), got {value!r}")


def _trl_section(section: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise RecipeError(f"section '{section}' must be a mapping, got {type(data).__name__} {data!r}")
    if not data:
        return {}
    import trl  # lazily, only for a non-empty section: TRL's config classes pull in transformers and torch
    config_cls = trl.SFTConfig if section == "sft" else trl.GRPOConfig
    # TRL does not postpone annotations, so f.type is the real type (a string one is accepted as exotic)
    fields = {f.name: f for f in dataclasses.fields(config_cls) if f.init}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in RUNNER_MANAGED:
            how = "from the weights in 'rewards'" if key == "reward_weights" else "under runs/<name>/"
            raise RecipeError(f"'{section}.{key}' cannot be set in a recipe: the pipeline runner sets it "
                              f"{how} (remove it from the recipe)")
        if key not in fields:
            settable = [k for k in fields if k not in RUNNER_MANAGED]
            raise unknown_key(key, section, settable, f"trl.{config_cls.__name__} (`help(trl."
                              f"{config_cls.__name__})`, https://huggingface.co/docs/trl/{section}_trainer)")
        out[key] = checked(value, fields[key].type, f"{section}.{key}")
        choices = list(fields[key].metadata.get("choices") or [])  # TRL lists the choices of some str fields
        _check(not choices or not isinstance(out[key], str) or out[key] in choices,
               f"invalid value for '{section}.{key}': {out[key]!r} is not one of {choices}")
    return out


def recipe_from_dict(data: dict, source: str = "<dict>") -> Recipe:
    """Validate a plain mapping (as from YAML, inheritance already resolved) and build a :class:`Recipe`."""
    try:
        _check(isinstance(data, Mapping), f"the top level must be a mapping, got {type(data).__name__}")
        _check("inherit" not in data, "'inherit' only works in recipe files (load_recipe resolves it)")
        special = {"sft": _trl_section, "grpo": _trl_section}  # TRL config fields, checked against trl
        return build_section(Recipe, copy.deepcopy(dict(data)), "(top level)", special)
    except RecipeError as exc:
        raise RecipeError(f"invalid recipe {source}: {exc}") from None


def recipe_to_dict(recipe: Recipe) -> dict:
    """Plain (YAML/JSON-serialisable) form of ``recipe``; ``recipe_from_dict`` of it gives an equal recipe."""
    return dataclasses.asdict(recipe)


def load_recipe(path: str | Path, overrides: Sequence[str] = ()) -> Recipe:
    """Read a recipe file, resolve ``inherit``, apply ``key.path=value`` overrides, then validate it all."""
    data = read_recipe_file(Path(path), ())
    for text in overrides:
        apply_override(data, text)
    return recipe_from_dict(data, source=str(path))
