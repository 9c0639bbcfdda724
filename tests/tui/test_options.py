"""`[tui]` options are validated with the rest of the config."""

from __future__ import annotations

import pytest

from convoscope import config


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_tui_options_defaults_and_validation() -> None:
    cfg = config.from_dict({"tui": {"theme": "light", "reviewer": "ana", "start_screen": "review"}})
    assert (cfg.tui.theme, cfg.tui.reviewer, cfg.tui.start_screen) == ("light", "ana", "review")
    assert config.from_dict({}).tui.theme == "dark"
    for bad, msg in (({"theme": "pink"}, "theme"), ({"start_screen": "nope"}, "start_screen"),
                     ({"search_rebuild_fraction": 0}, "search_rebuild_fraction"),
                     ({"colour": "x"}, "unknown key")):
        with pytest.raises(config.ConfigError, match=msg):
            config.from_dict({"tui": bad})
