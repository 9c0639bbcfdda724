"""analysis.publish: a model directory appears whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.publish import publish_dir


def test_a_finished_block_replaces_the_target_and_leaves_no_work_dir(tmp_path: Path) -> None:
    target = tmp_path / "models" / "recipe-key"
    target.mkdir(parents=True)
    (target / "old.bin").write_text("old")
    with publish_dir(target) as work:
        assert work.parent == target.parent and work != target and not any(work.iterdir())
        (work / "model.bin").write_text("new")
        assert (target / "old.bin").exists()  # the old one is served until the end
    assert sorted(p.name for p in target.iterdir()) == ["model.bin"]
    assert [p.name for p in target.parent.iterdir()] == ["recipe-key"]


def test_a_failed_block_leaves_the_old_target_and_no_half_directory(tmp_path: Path) -> None:
    target = tmp_path / "recipe-key"
    with pytest.raises(KeyboardInterrupt), publish_dir(target) as work:
        (work / "half.bin").write_text("half")
        raise KeyboardInterrupt  # a killed export or training run
    assert list(tmp_path.iterdir()) == []
