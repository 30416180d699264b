"""Which model a command means: a run directory, a model/checkpoint folder, or a hub id.

``runs/<name>/`` (it has ``manifest.json``) picks one of its stage folders (``grpo`` unless a stage is
asked for); a folder with ``config.json`` is taken as is; anything else that looks like ``owner/name``
is a hub id, checked against the local cache and, unless offline, the Hub itself (only ``config.json``
is fetched), so a typo or an offline machine is reported before anything is loaded or generated.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from rl_reasoner.errors import UsageError

DEFAULT_STAGE = "grpo"


class ModelRefError(UsageError):
    """The model argument names nothing loadable; the message says what was found instead."""


@dataclass(frozen=True)
class ModelRef:
    path: str  # what from_pretrained gets: a local folder or a hub id
    run_dir: Path | None = None  # the run the model belongs to, when given a run directory
    stage: str | None = None  # its stage folder name in that run (sft, grpo, grpo-<baseline>)

    @property
    def is_local(self) -> bool:
        return Path(self.path).is_dir()

    def manifest(self) -> dict | None:
        """The run's ``manifest.json`` (recipe, versions, stages), when the model comes from a run."""
        if self.run_dir is None or not (self.run_dir / "manifest.json").exists():
            return None
        return json.loads((self.run_dir / "manifest.json").read_text())


def is_hub_id(text: str, *, owner_required: bool = False) -> bool:
    """Whether ``text`` is a valid Hub repo id (``name`` or ``owner/name``; ``owner/name`` only when
    ``owner_required``). Anything starting with ``.``, ``/`` or ``~`` or with more than one ``/`` is a path.

    >>> is_hub_id("Qwen/Qwen2.5-Math-1.5B"), is_hub_id("gpt2"), is_hub_id("gpt2", owner_required=True)
    (True, True, False)
    >>> is_hub_id("./runs/demo"), is_hub_id("runs/demo/grpo"), is_hub_id("not a repo")
    (False, False, False)
    """
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if text.startswith((".", "/", "~")) or text.count("/") > 1 or (owner_required and "/" not in text):
        return False
    try:
        validate_repo_id(text)
    except HFValidationError:
        return False
    return True


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` as huggingface_hub read it at import, or as set in the environment now."""
    from huggingface_hub import constants

    env = os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}
    return bool(constants.HF_HUB_OFFLINE) or env


def _model_folders(run_dir: Path) -> list[str]:
    return sorted(
        d.name
        for d in run_dir.iterdir()
        if d.is_dir() and (d / "config.json").exists() and ".bak-" not in d.name
    )


def _checkpoints(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.glob("checkpoint-*") if (p / "config.json").exists())


def resolve_model(spec: str, stage: str | None = None, *, allow_hub: bool = True) -> ModelRef:
    """The model ``spec`` names; raises :class:`ModelRefError` with what was found instead."""
    folder = Path(spec).expanduser()
    if folder.is_dir() and (folder / "manifest.json").exists():
        wanted = stage or DEFAULT_STAGE
        available = _model_folders(folder)
        if wanted not in available:
            raise ModelRefError(
                f"run {folder} has no finished '{wanted}' model (a folder with config.json); "
                f"its model folders: {available or 'none'}. Pick one with --stage."
            )
        return ModelRef(str(folder / wanted), run_dir=folder, stage=wanted)
    if stage is not None:
        raise ModelRefError(
            f"--stage {stage} only applies to a run directory (with manifest.json); {spec} is not one"
        )
    if folder.is_dir():
        if (folder / "config.json").exists():
            run_dir = folder.parent if (folder.parent / "manifest.json").exists() else None
            return ModelRef(str(folder), run_dir=run_dir, stage=folder.name if run_dir else None)
        hint = f"; its checkpoints: {_checkpoints(folder)}" if _checkpoints(folder) else ""
        raise ModelRefError(
            f"{folder} is neither a run directory (manifest.json) nor a model folder (config.json){hint}"
        )
    if folder.exists():
        raise ModelRefError(f"{spec} is a file; expected a run directory, a model folder or a hub id")
    if not allow_hub or not is_hub_id(spec):
        raise ModelRefError(
            f"no such model folder: {spec}" + ("" if allow_hub else " (a local folder is needed)")
        )
    _check_hub_model(spec)
    return ModelRef(spec)


def _check_hub_model(repo_id: str) -> None:
    """The hub model's ``config.json`` is in the local cache or can be fetched; else a clear error."""
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    cached = try_to_load_from_cache(repo_id, "config.json")
    if isinstance(cached, str):
        return
    if hub_offline():
        raise ModelRefError(
            f"model {repo_id!r} is not a local folder and is not in the Hugging Face cache, and the Hub is "
            f"offline (HF_HUB_OFFLINE is set): download it (`hf download {repo_id}`) or pass a local folder"
        )
    try:
        hf_hub_download(repo_id, "config.json")
    except Exception as exc:  # any failure means the id cannot be used: say why
        raise ModelRefError(
            f"model {repo_id!r} is not a local folder and could not be fetched from the Hugging Face Hub "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'})"
        ) from None
