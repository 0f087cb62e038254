"""Find a pretrained tokenizer's files: in a local folder, or on the Hugging Face Hub via its cache.

`resolve_files(name_or_path, filenames)` returns `{filename: Path}` for the files that exist. A
local folder is used as is; anything else is a Hub repository id resolved with `huggingface_hub`,
honouring `HF_HOME` / `HF_HUB_CACHE` and `HF_HUB_OFFLINE` as they are *when called* (the
`huggingface_hub.constants` module reads them once, at import).

    >>> from ferroformers.hub import resolve_files
    >>> files = resolve_files("gpt2", ["tokenizer.json"])       # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .errors import HubError, ModelNotFoundError

_TRUE = {"1", "on", "yes", "true"}


def is_offline() -> bool:
    """Whether `HF_HUB_OFFLINE` asks for cache-only resolution."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def default_cache_dir() -> Path:
    """The hub cache folder: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def resolve_files(
    name_or_path: str | os.PathLike,
    filenames: Iterable[str],
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    what: str = "tokenizer",
) -> dict[str, Path]:
    """Return `{filename: path}` for each of `filenames` that the folder or repository has.

    `what` names the thing being loaded ("tokenizer", "model") in the error raised when the name resolves
    to nothing."""
    filenames = list(filenames)
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return {f: local / f for f in filenames if (local / f).is_file()}
    repo_id = str(name_or_path)
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if local_files_only or is_offline():
        return _resolve_from_cache(repo_id, filenames, revision, cache_dir, what)
    return _resolve_online(repo_id, filenames, revision, cache_dir, token, what)


def list_folder(
    name_or_path: str | os.PathLike,
    folder: str,
    suffix: str,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
) -> list[str]:
    """Repository-relative paths (`folder/name.suffix`) of the files directly in `folder` ending in `suffix`.

    For optional files whose names are not known in advance (`additional_chat_templates/*.jinja`); pass
    the result to `resolve_files`. A repository that is not reachable falls back to its cached snapshot,
    and one with neither gives an empty list (resolving its other files reports the problem)."""
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return _list_in(local, folder, suffix)
    repo_id = str(name_or_path)
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if not (local_files_only or is_offline()):
        from huggingface_hub import HfApi
        from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, OfflineModeIsEnabled

        unreachable = (HfHubHTTPError, OfflineModeIsEnabled, OSError, *_http_transport_errors())
        try:
            entries = HfApi().list_repo_tree(
                repo_id, path_in_repo=folder, revision=revision, token=token, recursive=False
            )
            return sorted(e.path for e in entries if e.path.endswith(suffix))
        except EntryNotFoundError:
            return []  # the repository has no such folder
        except unreachable:
            pass  # the Hub cannot be reached: look in the cache
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        snapshot = Path(snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, local_files_only=True))
    except (HFValidationError, LocalEntryNotFoundError, OSError):  # not cached: there is nothing to list
        return []
    return _list_in(snapshot, folder, suffix)


def _http_transport_errors() -> tuple[type[BaseException], ...]:
    """The connection errors of the HTTP client huggingface_hub uses (httpx in 1.x, httpx2 in 2.x; with
    requests, in older versions, they are OSErrors already)."""
    import importlib

    errors = []
    for client in ("httpx", "httpx2"):
        try:
            errors.append(importlib.import_module(client).TransportError)
        except (ImportError, AttributeError):
            continue
    return tuple(errors)


def _list_in(root: Path, folder: str, suffix: str) -> list[str]:
    directory = root / folder
    if not directory.is_dir():
        return []
    return sorted(f"{folder}/{p.name}" for p in directory.iterdir() if p.is_file() and p.name.endswith(suffix))


# What a local folder must hold for each kind of load, named in the not-found message.
_NEEDED_FILES = {
    "tokenizer": "tokenizer.json (and tokenizer_config.json)",
    "model": "config.json and the weights (model.safetensors or pytorch_model.bin)",
    "configuration": "config.json",
    "preprocessor": "preprocessor_config.json",
}


def _not_found(repo_id: str, revision: str | None, why: str, what: str = "tokenizer") -> ModelNotFoundError:
    rev = f" at revision {revision!r}" if revision else ""
    needed = _NEEDED_FILES.get(what, "the files")
    return ModelNotFoundError(
        f"Can't load a {what} for {repo_id!r}{rev}: {why}. Pass the path of a local folder that holds "
        f"{needed}, or go online (unset HF_HUB_OFFLINE, "
        f"local_files_only=False) so the files can be downloaded."
    )


def _resolve_from_cache(repo_id, filenames, revision, cache_dir, what) -> dict[str, Path]:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        folder = snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, local_files_only=True)
    except HFValidationError as err:
        raise _not_found(
            repo_id, revision, f"it is not a local folder nor a valid repository id ({err})", what
        ) from None
    except (LocalEntryNotFoundError, FileNotFoundError, OSError) as err:
        raise _not_found(
            repo_id,
            revision,
            f"it is not a local folder and is not in the hub cache {str(cache_dir)!r} (offline mode)",
            what,
        ) from err
    folder = Path(folder)
    return {f: folder / f for f in filenames if (folder / f).is_file()}


def _resolve_online(repo_id, filenames, revision, cache_dir, token, what) -> dict[str, Path]:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    found: dict[str, Path] = {}
    for name in filenames:
        try:
            found[name] = Path(hf_hub_download(repo_id, name, revision=revision, cache_dir=cache_dir, token=token))
        except EntryNotFoundError:
            continue  # optional file the repository does not have (RemoteEntryNotFoundError derives from it)
        except HFValidationError as err:
            raise _not_found(
                repo_id, revision, f"it is not a local folder nor a valid repository id ({err})", what
            ) from None
        except RepositoryNotFoundError as err:
            raise _not_found(
                repo_id, revision, "no such repository on the Hub (or it is private: pass token=)", what
            ) from err
        except RevisionNotFoundError as err:
            raise _not_found(repo_id, revision, "the repository has no such revision", what) from err
        except LocalEntryNotFoundError as err:
            # The Hub could not be reached and the file is not cached.
            raise _not_found(
                repo_id, revision, "the Hub could not be reached and the files are not cached", what
            ) from err
        except OSError as err:
            raise HubError(f"Downloading {name!r} from {repo_id!r} failed: {err}") from err
    return found
