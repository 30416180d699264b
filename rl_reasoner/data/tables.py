"""Every table the code reads (a run's splits, eval data, hub datasets) goes through one
``datasets.load_dataset`` call: a hub id, or a local .jsonl/.json/.parquet/.csv file with its builder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

LOCAL_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def is_table_file(source: str) -> bool:
    """The name of a local file ``load_table`` reads with a builder (it need not exist)."""
    return Path(source).expanduser().suffix in LOCAL_BUILDERS


def load_table(source: str, config: str | None = None, split: str = "train", *, what: str = "data"):
    """One split of ``source`` as a ``datasets.Dataset``; a ValueError says what could not be loaded.

    ``what`` names the source in the error (e.g. ``data.hub.dataset``)."""
    path = Path(source).expanduser()
    try:
        if is_table_file(source):
            if not path.is_file():
                raise ValueError(f"no such file: {path}")
            return _quiet_load(LOCAL_BUILDERS[path.suffix], data_files={split: str(path)}, split=split)
        return _quiet_load(source, config, split=split)
    except Exception as exc:  # datasets raises many types (hub offline, unknown split, bad file)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"{what} {source!r} (config {config!r}, split {split!r}) could not be loaded: "
            f"{type(exc).__name__}: {first}"
        ) from None


def _quiet_load(*args, **kwargs):
    """``datasets.load_dataset`` without its "Generating split" progress bars (local files load in
    seconds; a hub download still logs through ``datasets``' logger)."""
    from datasets import load_dataset
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_disabled = are_progress_bars_disabled()
    disable_progress_bars()
    try:
        return load_dataset(*args, **kwargs)
    finally:
        if not was_disabled:
            enable_progress_bars()


def load_split(path: Path, columns: Sequence[str]):
    """A run's split file (``data/<split>.jsonl``) as a ``datasets.Dataset`` with ``columns``; a clear
    error when the file is empty or lacks one."""
    dataset = load_table(str(path), what="split file")
    missing = [c for c in columns if c not in dataset.column_names]
    if len(dataset) == 0 or missing:
        raise ValueError(
            f"dataset {path} has {len(dataset)} rows and lacks column(s) {missing}; it has "
            f"{dataset.column_names}, expected rows with {list(columns)}"
        )
    return dataset
