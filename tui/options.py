"""`[tui]` options: how the terminal UI starts and who the analyst is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TuiOptions:
    """Defaults for `convoscope tui` (command-line flags override them)."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    #: "dark" or "light" (ctrl+t switches while running)
    theme: str = "dark"
    #: the screen shown first
    start_screen: str = "dashboard"
    #: where exports are proposed ("" = the current directory)
    export_dir: str = ""
    #: name recorded on reviews ("" = the login name)
    reviewer: str = ""
    #: rebuild the search index when this share of documents is not yet in it
    search_rebuild_fraction: float = 0.05

    def __post_init__(self) -> None:
        if self.theme not in ("dark", "light"):
            raise ValueError(f"theme must be 'dark' or 'light', got {self.theme!r}")
        screens = ("dashboard", "interactions", "search", "review", "agents", "topics")
        if self.start_screen not in screens:
            raise ValueError(f"start_screen must be one of {', '.join(screens)}")
        if not 0 < self.search_rebuild_fraction <= 1:
            raise ValueError("search_rebuild_fraction must be in (0, 1]")
