"""``rl-reasoner export RUN_OR_CKPT --to DIR [--eval PATH] [--push HUB_ID [--revision REV] [--dry-run]]``.

The export is a clean, Hub-ready folder: safetensors weights, config, generation config, tokenizer (with
its chat template when it has one) and a model card (``README.md``, see :mod:`rl_reasoner.model_card`);
no optimizer state, checkpoints or training arguments. The card's eval numbers come from the run's
``eval/<stage>/metrics.json``, or from ``--eval`` (checked before anything is written). The export is
assembled in a hidden sibling folder and renamed into place at the end, so ``--to`` is either complete or
absent; an existing non-empty ``--to`` is never touched. ``--push`` uploads the finished folder with
``huggingface_hub``; if that fails (no token, offline, no permission) the local export stays as it is and
the error says how to push it later.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rl_reasoner.errors import UsageError
from rl_reasoner.model_card import METRICS_FILE, load_eval_metrics, write_model_card
from rl_reasoner.model_ref import ModelRef, hub_offline, is_hub_id, resolve_model


class ExportError(UsageError):
    """The export or the push cannot go ahead; the message says why and what is intact."""


def check_target(to: Path) -> None:
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise ExportError(
            f"--to {to} exists and is not an empty folder; refusing to write into it (pick a new one)"
        )


def eval_metrics(path: Path) -> dict:
    """The ``--eval`` numbers: a ``metrics.json`` (or a folder holding one) as ``rl-reasoner eval`` writes."""
    metrics = load_eval_metrics(path)
    if metrics is None:
        found = "does not exist" if not path.exists() else f"has no {METRICS_FILE} with eval numbers"
        raise ExportError(
            f"--eval {path} {found}: give the {METRICS_FILE} of `rl-reasoner eval --out DIR`, or DIR itself"
        )
    return metrics


def export_model(
    source: ModelRef,
    to: Path,
    *,
    title: str | None = None,
    datasets: Sequence[str] = (),
    metrics: dict | None = None,
) -> list[str]:
    """Writes the export to ``to`` (which must not exist or be empty); returns its files, relative.

    ``metrics``: the card's eval numbers (:func:`eval_metrics`); by default the run's, when it has them.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    check_target(to)
    to.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{to.name}.partial-", dir=to.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; the export is an ordinary folder
    try:
        model = AutoModelForCausalLM.from_pretrained(source.path, dtype="auto")
        tokenizer = AutoTokenizer.from_pretrained(source.path)
        model.save_pretrained(staging)  # safetensors (transformers 5 writes nothing else)
        tokenizer.save_pretrained(staging)
        if not (staging / "generation_config.json").exists():
            GenerationConfig.from_model_config(model.config).save_pretrained(staging)
        write_model_card(
            source,
            staging,
            title=title or to.name,
            has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
            datasets=datasets,
            metrics=metrics,
        )
        check_target(to)  # still free: nothing appeared there while we worked
        os.replace(staging, to)  # an empty folder is replaced atomically; a missing one created
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return list_files(to)


def list_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def push(folder: Path, hub_id: str, *, revision: str | None = None) -> str:
    """Uploads ``folder`` to the model repo ``hub_id`` (created if needed); returns the commit URL."""
    from huggingface_hub import HfApi, get_token

    later = f"the export at {folder} is intact; push it later with `hf upload {hub_id} {folder}`"
    if hub_offline():
        raise ExportError(
            f"cannot push to {hub_id}: the Hugging Face Hub is offline (HF_HUB_OFFLINE is set); {later}"
        )
    token = get_token()
    if not token:
        raise ExportError(
            f"cannot push to {hub_id}: no Hugging Face token (set HF_TOKEN or run `hf auth login`); {later}"
        )
    api = HfApi(token=token)
    try:
        api.create_repo(hub_id, repo_type="model", exist_ok=True)
        if revision:
            api.create_branch(hub_id, branch=revision, exist_ok=True)
        info = api.upload_folder(
            repo_id=hub_id,
            folder_path=folder,
            revision=revision,
            commit_message=f"rl-reasoner export of {folder.name}",
        )
    except Exception as exc:  # network, auth, permissions: all leave the local export as it is
        first = str(exc).splitlines()[0] if str(exc) else "no detail"
        raise ExportError(f"push to {hub_id} failed ({type(exc).__name__}: {first}); {later}") from None
    return str(getattr(info, "commit_url", info))


def add_export_parser(sub) -> None:
    """Registers ``export`` on the ``rl-reasoner`` subcommand parser."""
    p = sub.add_parser(
        "export", help="export a run's model as a Hub-ready folder (+ model card), optionally push"
    )
    p.add_argument("model", help="run directory (runs/<name>) or model/checkpoint folder")
    p.add_argument("--stage", help="with a run directory: sft, grpo (default) or grpo-<baseline>")
    p.add_argument("--to", required=True, type=Path, help="new (or empty) output folder")
    p.add_argument("--push", metavar="HUB_ID", help="also upload the export to this model repo (owner/name)")
    p.add_argument("--revision", help="with --push: branch to upload to (created if missing)")
    p.add_argument(
        "--dry-run", action="store_true", help="with --push: list what would be uploaded, no network"
    )
    p.add_argument(
        "--dataset", action="append", default=[], help="dataset id for the card's metadata (repeatable)"
    )
    p.add_argument(
        "--eval",
        type=Path,
        metavar="PATH",
        help="eval numbers for the card: a metrics.json or an `rl-reasoner eval --out` folder "
        "(default: the run's eval/<stage>/metrics.json)",
    )
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    if (args.revision or args.dry_run) and not args.push:
        raise ExportError("--revision and --dry-run go with --push HUB_ID")
    if args.push and not is_hub_id(args.push, owner_required=True):
        raise ExportError(f"--push {args.push!r} is not a hub repo id (owner/name)")
    source = resolve_model(args.model, args.stage, allow_hub=False)
    metrics = eval_metrics(args.eval) if args.eval else None
    files = export_model(source, args.to, title=args.push or None, datasets=args.dataset, metrics=metrics)
    print(f"[rl-reasoner] exported {source.path} to {args.to}: {', '.join(files)}")
    if args.push and args.dry_run:
        where = f"{args.push}" + (f" (revision {args.revision})" if args.revision else "")
        print(f"[rl-reasoner] dry run: would upload to {where}:")
        for name in files:
            print(f"  {name}  ({(args.to / name).stat().st_size} bytes)")
    elif args.push:
        print(f"[rl-reasoner] pushed: {push(args.to, args.push, revision=args.revision)}")
    return 0
