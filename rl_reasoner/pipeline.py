"""The pipeline runner: ``runs/<name>/{data,sft,grpo,eval}`` plus ``manifest.json``.

Stages run in order ``data -> sft -> grpo (+ baselines) -> eval``. The manifest records the recipe,
library versions, git commit and, per stage, its status, timings and a fingerprint of the recipe
sections it depends on. Re-running resumes: finished stages are skipped; a stage that was started
but not finished resumes from its last trainer checkpoint. A finished stage whose recipe sections
changed is never redone silently: the runner stops and says which keys changed. ``--force`` redoes
the requested stages, moving the old output aside (``<stage>.bak-<time>``) rather than deleting it.

With a recipe ``launch:`` section the sft and grpo stages run as ``accelerate launch … -m rl_reasoner
<stage>`` subprocesses (see ``rl_reasoner.launch``); inside them every process trains, and only rank 0
writes the manifest and moves old outputs aside.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rl_reasoner.errors import UsageError
from rl_reasoner.preflight import preflight
from rl_reasoner.recipe import Recipe, recipe_to_dict
from rl_reasoner.side_by_side import cpu_share, start_unit, torch_threads
from rl_reasoner.stages import STAGES
from rl_reasoner.stages.evaluate import eval_ahead
from rl_reasoner.stages.grpo import cache_gate_reference

# Recipe sections each stage depends on (upstream stages' sections included).
STAGE_INPUTS = {
    "data": ("seed", "model", "data"),
    "sft": ("seed", "model", "data", "sft"),
    "grpo": ("seed", "model", "data", "sft", "grpo", "rewards", "baselines", "replay", "gate", "frozen"),
    "eval": ("seed", "model", "data", "sft", "grpo", "rewards", "baselines", "replay", "gate", "frozen",
             "eval"),
}
# Sections added to STAGE_INPUTS after runs were made: a stage finished before then is fresh when its
# fingerprint without them matches (it cannot say what it was made with); one finished since is checked fully.
LATER_INPUTS = ("replay",)
# Where to reach a vLLM server: never makes a finished stage stale (a Slurm job gets new nodes each time).
CONNECTION_KEYS = ("vllm_server_host", "vllm_server_port", "vllm_server_base_url", "vllm_server_timeout")
# Keys added after runs were made -> whether a value is what every older run had: left out where it is, so a
# finished stage of an older run stays fresh (a default-ops run's data is byte-identical to before, and so is
# one without a teacher model, RevThink objectives or fact keys, whatever their other settings).
LATER_DEFAULTS: dict[str, dict[str, Callable[[Any], bool]]] = {
    "data": {"ops": lambda ops: ops == ["add"], "teacher": lambda teacher: teacher.get("model") is None,
             "revthink": lambda revthink: revthink.get("objectives") is None,
             "facts": lambda facts: not facts.get("keys"), "val_per_level": lambda n: n == 0},
    "": {"gate": lambda gate: gate.get("max_drop") is None,  # whole sections: left out while off
         "frozen": lambda names: not names},
}


class PipelineError(UsageError):
    """A run cannot go ahead as asked; the message says why and what to do."""


def is_rank_zero() -> bool:
    """True outside a multi-process launch and on its global rank 0 (read from the launcher's env, so no
    process group is needed: torchrun, accelerate and deepspeed all set RANK)."""
    return int(os.environ.get("RANK", "0")) == 0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def fingerprint(recipe_dict: dict, stage: str, legacy: bool = False) -> str:
    """Hash of the recipe sections ``stage`` depends on (a finished stage is stale when it changes);
    ``legacy``: without ``LATER_INPUTS``, as stages finished before they were added were fingerprinted."""
    recipe_dict = _without_later_defaults(recipe_dict)
    keys = [k for k in STAGE_INPUTS[stage] if not (legacy and k in LATER_INPUTS)]
    relevant = {key: recipe_dict[key] for key in keys if key in recipe_dict}
    if "grpo" in relevant:
        relevant["grpo"] = {k: v for k, v in relevant["grpo"].items() if k not in CONNECTION_KEYS}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def _without_later_defaults(recipe_dict: dict) -> dict:
    """``recipe_dict`` as a run made before the ``LATER_DEFAULTS`` keys has it, where they hold that value."""
    out = dict(recipe_dict)
    for section, defaults in LATER_DEFAULTS.items():
        if section == "":
            out = {k: v for k, v in out.items() if k not in defaults or not defaults[k](v)}
        elif isinstance(out.get(section), dict):
            out[section] = {k: v for k, v in out[section].items() if k not in defaults or not defaults[k](v)}
    return out


def _changed_keys(old: dict, new: dict, prefix: str = "") -> list[str]:
    keys = []
    for key in sorted(set(old) | set(new), key=str):
        a, b, where = old.get(key), new.get(key), f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            keys += _changed_keys(a, b, where + ".")
        elif a != b:
            keys.append(f"{where}: {a!r} -> {b!r}")
    return keys


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("rl-reasoner", "torch", "trl", "transformers", "accelerate", "datasets", "sympy", "wandb"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _git_commit() -> str | None:
    try:
        here = Path(__file__).resolve().parent
        cmd = ["git", "rev-parse", "HEAD"]
        out = subprocess.run(cmd, cwd=here, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


@dataclass
class Manifest:
    path: Path
    data: dict

    @classmethod
    def open(cls, run_dir: Path, recipe: dict) -> Manifest:
        path = run_dir / "manifest.json"
        if path.exists():
            data = json.loads(path.read_text())
        else:
            data = {"created": _now(), "stages": {}}
        data.update(recipe=recipe, versions=_versions(), git_commit=_git_commit())
        return cls(path, data)

    def stage(self, name: str) -> dict:
        return self.data["stages"].get(name, {})

    def update(self, name: str, **fields) -> None:
        self.data["stages"].setdefault(name, {}).update(fields)
        if not is_rank_zero():  # under a launcher every process runs the stage; one writes its status
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2))
        os.replace(tmp, self.path)  # atomic: a crash never leaves half a manifest


def reporting_backend(recipe: Recipe) -> str:
    """TRL's ``report_to`` for the training stages: ``wandb`` unless the recipe turns it off."""
    return "wandb" if recipe.report_to == "wandb" and recipe.wandb.mode != "disabled" else "none"


class Pipeline:
    """Runs a recipe's stages under ``runs_dir/<recipe.name>`` (or ``run_dir``). ``launched``: this process
    is one of those a launcher started, so it trains the sft/grpo stages itself instead of launching them."""

    def __init__(
        self,
        recipe: Recipe,
        runs_dir: Path | str = "runs",
        force: bool = False,
        run_dir: Path | None = None,
        *,
        launched: bool = False,
    ):
        self.recipe = recipe
        self.recipe_dict = recipe_to_dict(recipe)
        self.run_dir = Path(run_dir) if run_dir is not None else Path(runs_dir) / recipe.name
        self.force = force
        self.report_to = reporting_backend(recipe)
        self.launched = launched
        self.launch = recipe.launch if recipe.launch.config_file and not launched else None
        self.old_recipe = None
        if (self.run_dir / "manifest.json").exists():
            self.old_recipe = json.loads((self.run_dir / "manifest.json").read_text()).get("recipe")
        self.manifest = Manifest.open(self.run_dir, self.recipe_dict)

    # -- planning -------------------------------------------------------------------------------
    def units(self, stage: str) -> list[str]:
        """Manifest entries of a stage: ``grpo`` also covers one ``grpo-<baseline>`` per baseline; ``sft``
        has none when GRPO starts from the base model (``model.grpo_from: base``)."""
        if stage == "sft" and self.recipe.model.grpo_from == "base":
            return []
        if stage == "grpo":
            return ["grpo", *(f"grpo-{name}" for name in self.recipe.baselines)]
        return [stage]

    def plan(self, stages: Sequence[str]) -> list[str]:
        """The units to run; raises before anything runs when a finished unit is out of date."""
        unknown = [s for s in stages if s not in STAGES]
        if unknown:
            raise PipelineError(f"unknown stage(s) {unknown}; valid stages, in order: {list(STAGES)}")
        self._check_upstream(stages)
        todo, stale = [], []
        for stage in (s for s in STAGES if s in stages):
            for unit in self.units(stage):
                entry = self.manifest.stage(unit)
                if entry.get("status") != "done" or self.force:
                    todo.append(unit)
                elif entry.get("fingerprint") not in (
                    fingerprint(self.recipe_dict, stage), fingerprint(self.recipe_dict, stage, legacy=True)
                ):
                    stale.append(unit)
        if stale:
            stored = json.loads(json.dumps(self.recipe_dict))  # as manifest.json holds it (int keys: "1")
            changes = _changed_keys(*(_without_later_defaults(r) for r in (self.old_recipe or {}, stored)))
            stale_stages = [s for s in STAGES if set(self.units(s)) & set(stale)]
            raise PipelineError(
                f"{self.run_dir} already holds finished stage(s) {stale} made with a different recipe "
                f"(changed: {'; '.join(changes) or 'unknown'}). Nothing was touched. Pick a new run name "
                f"(name=<new>) or pass --force --stages {','.join(stale_stages)} to redo them (old outputs "
                "are kept as *.bak-<time>)."
            )
        return todo

    def _check_upstream(self, stages: Sequence[str]) -> None:
        """Every stage before the first one asked for must be finished: the asked ones start from it."""
        first = min(list(STAGES).index(s) for s in stages) if stages else 0
        missing = [
            unit
            for stage in list(STAGES)[:first]
            for unit in self.units(stage)
            if self.manifest.stage(unit).get("status") != "done"
        ]
        if missing:
            raise PipelineError(
                f"{self.run_dir} has no finished {'/'.join(missing)} stage, which the {', '.join(stages)} "
                f"stage starts from; run it first: rl-reasoner run RECIPE --stages {','.join(missing)}"
            )

    # -- running --------------------------------------------------------------------------------
    def run(self, stages: Sequence[str] = tuple(STAGES), log: Callable[[str], None] = print) -> dict:
        todo = self.plan(stages)
        if int(os.environ.get("WORLD_SIZE", "1")) > 1 and {"data", "eval"} & set(stages):
            raise PipelineError(
                "`rl-reasoner run` is running under a multi-process launcher, so every process would run "
                "the data and eval stages; put the launcher in the recipe's launch: section (config_file, "
                "num_processes) or launch only the training stages: accelerate launch … -m rl_reasoner "
                "sft|grpo --recipe RECIPE --run-dir DIR"
            )
        for stage in (s for s in STAGES if s in stages):
            if self.launch is not None and stage in ("sft", "grpo") and set(self.units(stage)) & set(todo):
                self._launch_stage(stage, log)
                continue
            share = cpu_share(len(self.units(stage))) if stage == "grpo" and not self.launched else None
            for unit in self.units(stage):
                if unit not in todo:
                    log(f"[rl-reasoner] {unit}: done ({self.manifest.stage(unit).get('finished')}), skipped")
            units = [unit for unit in self.units(stage) if unit in todo]
            if units:
                self._start_reporting()
            if share is not None and units:
                self._run_side_by_side(stage, units, share, log, eval_next="eval" in todo)
                continue
            for unit in units:
                self._run_unit(stage, unit, STAGES[stage], log)
        return self.manifest.data

    def _start_reporting(self) -> None:
        """wandb through TRL's ``report_to``: offline by default, its files under the run directory."""
        if self.report_to != "wandb":
            return
        os.environ.setdefault("WANDB_MODE", self.recipe.wandb.mode)
        os.environ.setdefault("WANDB_PROJECT", self.recipe.wandb.project)
        os.environ.setdefault("WANDB_DIR", str(self.run_dir))
        self.run_dir.mkdir(parents=True, exist_ok=True)

    def _run_unit(self, stage: str, unit: str, fn: Callable, log: Callable[[str], None]) -> None:
        start = self._begin_unit(unit, log)
        try:
            result = fn(self, unit, self.run_dir / unit)
        except BaseException as exc:
            self.manifest.update(unit, status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
            raise
        self._end_unit(stage, unit, start, result, log)

    def _begin_unit(self, unit: str, log: Callable[[str], None]) -> float:
        out = self.run_dir / unit
        entry = self.manifest.stage(unit)
        if entry.get("status") == "done" and out.exists() and is_rank_zero():  # only reachable with --force
            backup = out.with_name(f"{unit}.bak-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
            shutil.move(str(out), str(backup))
            log(f"[rl-reasoner] {unit}: previous output moved to {backup}")
        resumed = entry.get("status") in ("running", "failed")
        log(f"[rl-reasoner] {unit}: {'resuming' if resumed else 'starting'} -> {out}")
        self.manifest.update(unit, status="running", started=_now(), error=None)
        return time.time()

    def _end_unit(self, stage: str, unit: str, start: float, result: Any, log: Callable[[str], None]) -> None:
        self.manifest.update(
            unit,
            status="done",
            finished=_now(),
            seconds=round(time.time() - start, 1),
            fingerprint=fingerprint(self.recipe_dict, stage),
            **({"result": result} if isinstance(result, dict) else {}),
        )
        log(f"[rl-reasoner] {unit}: done in {time.time() - start:.0f}s")

    def _run_side_by_side(
        self, stage: str, units: list[str], share: int, log: Callable[[str], None], eval_next: bool = False
    ) -> None:
        """The first unit in this process, each other in a child process, all at ``share`` torch threads
        (``rl_reasoner.side_by_side``); waits for every child even when one fails, then names the failures.
        With ``eval_next``, this process then evaluates the finished models while the children train."""
        recipe_file = self._write_resolved_recipe()
        reference = cache_gate_reference(self)
        if reference is not None:
            log(f"[rl-reasoner] gate: start model's val accuracy per level {reference} (once for all units)")
        children = {}
        for unit in units[1:]:
            start = self._begin_unit(unit, log)
            children[unit] = (start, *start_unit(recipe_file, self.run_dir, unit, share))
            log(f"[rl-reasoner] {unit}: training beside {units[0]} ({share} thread(s) each), "
                f"its output in {children[unit][2]}")
        try:
            with torch_threads(share):
                self._run_unit(stage, units[0], STAGES[stage], log)
        except BaseException:
            for unit, (_, proc, _) in children.items():
                proc.terminate()
                self.manifest.update(unit, status="failed", error=f"stopped: {units[0]} beside it failed")
            raise
        if eval_next and children:  # running or not: each model is always evaluated on the same threads
            eval_ahead(self, list(children), share, log)
        failed = []
        for unit, (start, proc, log_path) in children.items():
            if proc.wait() == 0:
                self._end_unit(stage, unit, start, None, log)
                continue
            self.manifest.update(unit, status="failed", error=f"exit code {proc.returncode}, see {log_path}")
            failed.append(f"{unit} (exit code {proc.returncode}, its output in {log_path})")
        if failed:
            raise PipelineError(
                f"GRPO unit(s) trained beside {units[0]} failed: {'; '.join(failed)}. The other units are "
                "finished; re-running the same command resumes the failed ones from their last checkpoint."
            )

    def _write_resolved_recipe(self) -> Path:
        """``<run>/recipe.yaml``: the recipe with overrides applied, what launched or child processes load."""
        import yaml

        self.run_dir.mkdir(parents=True, exist_ok=True)
        recipe_file = self.run_dir / "recipe.yaml"
        recipe_file.write_text(yaml.safe_dump(self.recipe_dict, sort_keys=False))
        return recipe_file

    def _launch_stage(self, stage: str, log: Callable[[str], None]) -> None:
        """All units of ``stage`` in one ``accelerate launch`` subprocess (which keeps the manifest)."""
        from rl_reasoner.launch import check_launch, launch_command

        plan = check_launch(self.recipe.launch)
        recipe_file = self._write_resolved_recipe()
        cmd = launch_command(plan, stage, recipe_file, self.run_dir, force=self.force)
        log(f"[rl-reasoner] {stage}: launching {plan.num_processes} processes: {' '.join(cmd)}")
        code = subprocess.run(cmd).returncode
        self.manifest = Manifest.open(self.run_dir, self.recipe_dict)  # the launched rank 0 updated it
        failed = [u for u in self.units(stage) if self.manifest.stage(u).get("status") != "done"]
        if code != 0 or failed:
            raise PipelineError(
                f"the {stage} stage launched with {plan.config_file} exited with code {code} (units not "
                f"done: {failed}); its output is above. Re-running the same command resumes from the last "
                "checkpoint."
            )


def run_stages(
    recipe: Recipe,
    stages: Sequence[str] = tuple(STAGES),
    *,
    runs_dir: Path | str = "runs",
    run_dir: Path | None = None,
    force: bool = False,
    launched: bool = False,
) -> Pipeline:
    """The one run flow, of ``rl-reasoner run`` and of the stage commands: check the recipe, refuse before
    any work when finished outputs would be touched, then run (resume) the stages."""
    preflight(recipe)  # under a launcher this checks what the launcher passed (rl_reasoner.launch)
    pipeline = Pipeline(recipe, runs_dir, force, run_dir, launched=launched)
    pipeline.run(stages, log=print if is_rank_zero() else lambda _: None)
    return pipeline
