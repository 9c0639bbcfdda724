"""A folder of policy snippets as extra `[[facts]]` (`[fact_check] policy_dir`).

Policy owners keep one small file per policy instead of editing the service configuration:

* `*.toml` — one or more `[[facts]]` tables, exactly as in the configuration;
* `*.md` — a Markdown snippet whose TOML front matter (between `+++` lines) holds one fact's
  keys (`subject`, `value`, `hints`, ...); the text below it is the policy in words and,
  when the front matter has no `description`, becomes it (so the semantic match compares
  agent sentences with the policy as written).

Every snippet is validated like a configured fact; a bad one is an error that names the file
(nothing is half-loaded). Files are read in name order, so the facts' order is stable.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from analysis.facts import FactOptions

#: the longest description kept from a Markdown body (the encoder reads ~256 tokens)
MAX_DESCRIPTION = 600


class PolicySnippetError(ValueError):
    """A snippet that cannot be read as a fact; the message names the file."""


def _front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "+++":
        raise PolicySnippetError(f"{path}: a policy snippet starts with a '+++' line (TOML front matter)")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration:
        raise PolicySnippetError(f"{path}: the front matter has no closing '+++' line") from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise PolicySnippetError(f"{path}: front matter is not valid TOML: {exc}") from None
    return meta, "\n".join(lines[end + 1 :]).strip()


def _fact(path: Path, entry: dict[str, Any]) -> FactOptions:
    try:
        return FactOptions(**entry)
    except (TypeError, ValueError) as exc:
        raise PolicySnippetError(f"{path}: {exc}") from None


def load(folder: str | Path) -> list[FactOptions]:
    """The facts of every snippet in `folder` (see the module docstring)."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise PolicySnippetError(f"policy_dir {root} is not a folder")
    out: list[FactOptions] = []
    for path in sorted(p for p in root.iterdir() if p.suffix in (".toml", ".md") and p.is_file()):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise PolicySnippetError(f"{path}: not valid TOML: {exc}") from None
            entries = data.get("facts")
            if not isinstance(entries, list) or not entries:
                raise PolicySnippetError(f"{path}: no [[facts]] tables")
            out += [_fact(path, dict(e)) for e in entries]
        else:
            meta, body = _front_matter(path, text)
            if body and not meta.get("description"):
                meta["description"] = " ".join(body.split())[:MAX_DESCRIPTION]
            out.append(_fact(path, meta))
    return out
