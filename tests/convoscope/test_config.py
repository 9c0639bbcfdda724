"""Config is validated at start, names the key at fault, and takes secrets only from the env."""

from __future__ import annotations

from pathlib import Path

import pytest

from convoscope import config


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(config.CONFIG_ENV, raising=False)
    cfg = config.load()
    assert cfg.store.path == str(tmp_path / "convoscope.duckdb")


def test_sentiment_files_are_read_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative sentiment path means the config file's folder, not the folder the service
    was started from; a name that is no file there (the packaged model, a hub name) stays."""
    conf = tmp_path / "etc" / "convoscope.toml"
    (conf.parent / "heads" / "v6").mkdir(parents=True)
    (conf.parent / "my_turns.jsonl").write_text("")
    conf.write_text('[sentiment]\nlong_text = "last"\nlong_model = "heads/v6"\nturns = "my_turns.jsonl"\nmodel = "en-sentiment"\n')
    monkeypatch.chdir(tmp_path)  # elsewhere: "heads/v6" here would be tmp_path/heads/v6
    cfg = config.load(str(conf))
    assert cfg.sentiment.long_model == str(conf.parent / "heads" / "v6")
    assert cfg.sentiment.turns == str(conf.parent / "my_turns.jsonl")
    assert cfg.sentiment.model == "en-sentiment"
    assert cfg.sentiment.corpus == config.SentimentOptions().corpus


def test_errors_name_the_key_and_the_problem() -> None:
    with pytest.raises(config.ConfigError) as exc:
        config.from_dict({"service": {"api_port": "eighty"}, "store": {"pth": "x"}, "timezone": "Mars/Base"})
    msg = str(exc.value)
    assert "service.api_port" in msg
    assert "store.pth: unknown key" in msg
    assert "timezone" in msg and "Mars/Base" in msg


def test_env_references_are_expanded_and_missing_ones_named() -> None:
    cfg = config.from_dict({"service": {"api_token": "${TOKEN}"}}, env={"TOKEN": "s3cret"})
    assert cfg.service.api_token == "s3cret"
    with pytest.raises(config.ConfigError, match=r"service\.api_token: environment variable TOKEN is not set"):
        config.from_dict({"service": {"api_token": "${TOKEN}"}}, env={})


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_config_flag_then_env_then_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = tmp_path / "a.toml"
    a.write_text('[store]\npath = "a.duckdb"\n')
    b = tmp_path / "sub" / "b.toml"
    b.parent.mkdir()
    b.write_text('[store]\npath = "b.duckdb"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(config.CONFIG_ENV, str(b))
    assert config.load().store.path == str(b.parent / "b.duckdb")
    assert config.load(str(a)).store.path == str(tmp_path / "a.duckdb")
    monkeypatch.setenv(config.CONFIG_ENV, str(tmp_path / "missing.toml"))
    with pytest.raises(config.ConfigError, match="does not name a file"):
        config.load()


def test_bad_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("[store\npath = 1")
    with pytest.raises(config.ConfigError, match="not valid TOML"):
        config.load(str(p))


def test_example_config_is_valid() -> None:
    """config.example.toml documents every key; it must itself load (with its env refs set)."""
    import re
    import tomllib

    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    text = example.read_text()
    env = {name: "x" for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text)}
    config.from_dict(tomllib.loads(text), env=env, base_dir=example.parent)
