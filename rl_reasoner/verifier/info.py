"""A verifier folder's ``verifier.json``: what kind it is, which policy it was trained on, and the checks a
folder must pass before a model in it is loaded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from rl_reasoner.errors import UsageError

INFO_FILE = "verifier.json"
KINDS = ("orm", "prm")  # outcome verifier (one score per completion), process verifier (one per step)


class VerifierError(UsageError):
    """A verifier cannot be built or used as asked (not a verifier folder, another kind or tokenizer, ...)."""


def check_kind(kind: str) -> None:
    """Refuses an unknown kind, in one paragraph."""
    if kind not in KINDS:
        raise VerifierError(
            f"unknown verifier kind {kind!r}; expected one of {list(KINDS)} (orm: an outcome verifier, one "
            "score per completion; prm: a process verifier, one score per step)"
        )


def tokenizer_fingerprint(tokenizer) -> str:
    """sha256 of the tokenizer's vocabulary (token -> id, sorted JSON): equal only for the same token ids."""
    vocab = json.dumps(tokenizer.get_vocab(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(vocab.encode("utf-8")).hexdigest()


def write_info(folder: Path, info: dict) -> Path:
    """Writes ``verifier.json`` into ``folder`` (the file that makes it a verifier folder)."""
    path = folder / INFO_FILE
    path.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return path


def read_info(folder: str | Path, kind: str | None = None) -> dict:
    """The folder's ``verifier.json``, checked: it exists, its kind is known (and is ``kind`` if asked)."""
    path = Path(folder) / INFO_FILE
    if not path.is_file():
        raise VerifierError(
            f"{folder} is not a verifier folder: make one with rl-reasoner verifier RUN --kind orm|prm (a "
            f"verifier folder holds {INFO_FILE} next to the model)"
        )
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise VerifierError(f"{path} is not valid JSON ({exc}); rebuild the verifier") from None
    found = info.get("kind") if isinstance(info, dict) else None
    if kind is not None and found != kind:
        raise VerifierError(
            f"{folder} holds a verifier of kind {found!r}, not the {kind!r} asked for: pass the folder of a "
            f"{kind} verifier (rl-reasoner verifier RUN --kind {kind})"
        )
    check_kind(str(found))
    return info


def check_tokenizer(info: dict, folder: str | Path, policy_tokenizer) -> None:
    """Refuses a verifier trained on another tokenizer than the policy's (its scores would read other ids)."""
    theirs, ours = info.get("tokenizer_sha256"), tokenizer_fingerprint(policy_tokenizer)
    kind = info.get("kind", "orm")
    if theirs != ours:
        policy = info.get("policy", {}).get("model", "an unknown model")
        raise VerifierError(
            f"the verifier in {folder} was trained on the tokenizer of {policy} (vocabulary sha256 "
            f"{str(theirs)[:12]}), but the policy's tokenizer differs (sha256 {ours[:12]}): train a verifier "
            f"on samples of this policy's family (rl-reasoner verifier RUN --kind {kind})"
        )
