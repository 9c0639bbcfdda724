"""Play a clip through the system's audio player, or leave it in a file to open.

The TUI has no audio of its own: a clip (WAV bytes) is written to a folder and handed to
the first player found on PATH (`ffplay`, `paplay`, `aplay`, `afplay`), started in the
background so the screen stays responsive. Without a player the file's path is the
answer, for the reviewer to open however they like.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

PLAYERS: tuple[tuple[str, ...], ...] = (
    ("ffplay", "-nodisp", "-autoexit", "-loglevel", "quiet"),
    ("paplay",),
    ("aplay", "-q"),
    ("afplay",),
)


def find_player() -> tuple[str, ...] | None:
    for cmd in PLAYERS:
        if shutil.which(cmd[0]):
            return cmd
    return None


def save(data: bytes, flag_id: int, folder: str | Path | None = None) -> Path:
    out = Path(folder or Path(tempfile.gettempdir()) / "convoscope-clips").expanduser()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"flag-{int(flag_id)}.wav"
    path.write_bytes(data)
    return path


def play_or_save(data: bytes, flag_id: int, folder: str | Path | None = None,
                 player: tuple[str, ...] | None = None) -> str:  # fmt: skip
    """Write the clip and play it; returns what to tell the user."""
    path = save(data, flag_id, folder)
    cmd = player if player is not None else find_player()
    if not cmd:
        return f"no audio player found: clip written to {path}"
    subprocess.Popen([*cmd, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    return f"playing {path.name} with {cmd[0]} (did you hear it?)"
