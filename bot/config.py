"""Settings from a TOML file, overridden by the environment.

The file is optional: `--config FILE`, else `config.toml` in the working directory, else the
bundled `config.example.toml`. Secrets may come from either, and are never printed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from bot.i18n.catalogue import languages
from bot.timeutil import parse_datetime

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = PROJECT_ROOT / "config.example.toml"
DEFAULT_DATABASE_URL = "sqlite:///.nosurprises/nosurprises.db"


# What `nation` may say, and what it means ("england-and-wales" was the setting before the
# statutory rules differed by nation; it stays accepted and means England).
NATIONS = {
    "england": "england",
    "england-and-wales": "england",
    "wales": "wales",
    "scotland": "scotland",
    "northern-ireland": "northern-ireland",
}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the file and the setting."""


@dataclass(frozen=True)
class CouncilSettings:
    name: str = "Harbourside Borough Council"
    timezone: str = "Europe/London"
    # england, wales, scotland or northern-ireland ("england-and-wales" is read as england):
    # chooses the bank holidays and the statutory rule set.
    nation: str = "england"
    closure_days: tuple[date, ...] = ()
    working_hours_start: time = time(9, 0)
    working_hours_end: time = time(17, 0)
    # Whether "clear days" skip weekends and bank holidays (see config.example.toml).
    clear_days_skip_non_working: bool = False
    # The language of messages to people whose directory entry names none: en, cy, or cy+en
    # (bilingual, Welsh first).
    language: str = "en"
    # The communications team's addresses (in the directory): told of every heads-up.
    communications: tuple[str, ...] = ()


@dataclass(frozen=True)
class BriefingRule:
    enabled: bool = True
    due_working_days: int = 10


@dataclass(frozen=True)
class RulesSettings:
    horizon_days: int = 90
    portfolio_holder: BriefingRule = BriefingRule()
    ward_councillors: BriefingRule = BriefingRule()
    leader_key_decisions: BriefingRule = BriefingRule()
    statutory_notice_clear_days: int = 28
    amber_within_working_days: int = 2
    decision_close_working_days: int = 5


@dataclass(frozen=True)
class EscalationStep:
    name: str
    offset_working_days: int
    recipient: str  # briefer | director | chief_executive | member

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "offset_working_days": self.offset_working_days,
            "recipient": self.recipient,
        }


DEFAULT_LADDER = (
    EscalationStep("first_prompt", -5, "briefer"),
    EscalationStep("reminder", -2, "briefer"),
    EscalationStep("urgent_reminder", 0, "briefer"),
    EscalationStep("director", 1, "director"),
    EscalationStep("chief_executive", 2, "chief_executive"),
)
STEP_RECIPIENTS = frozenset({"briefer", "director", "chief_executive"})


@dataclass(frozen=True)
class EscalationSettings:
    steps: tuple[EscalationStep, ...] = DEFAULT_LADDER
    member_reminder_after_working_days: int = 2


@dataclass(frozen=True)
class OutboxSettings:
    batch_size: int = 200
    max_attempts: int = 6
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    # A claim whose heartbeat is older than this belongs to a process that has gone; the next
    # delivery tick (every 30 s) puts it back in the queue, so within a minute.
    claim_timeout_seconds: float = 30.0
    # Messages in flight at once per process (each recorded as soon as its send returns).
    concurrency: int = 8


@dataclass(frozen=True)
class SchedulerSettings:
    sweep_interval_seconds: int = 300
    deliver_interval_seconds: int = 30
    audit_check_interval_seconds: int = 3600
    officer_digest_time: time = time(8, 45)
    chief_executive_digest_weekday: int = 0  # Monday
    chief_executive_digest_time: time = time(8, 30)


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 3978
    # The bot's public https:// address; chat cards link calendar holds to it when it is set.
    public_url: str = ""


@dataclass(frozen=True)
class ModernGovSource:
    name: str
    base_url: str
    executive_committees: tuple[str, ...] = ()
    interval_minutes: int = 60
    requests_per_second: float = 3.0  # polite to the council's site
    timeout_seconds: float = 20.0
    # Named in the User-Agent, so the council's web team can reach whoever runs the bot.
    contact: str = ""
    # Agenda items that are business of the meeting, not decisions (matched at the start).
    procedural_items: tuple[str, ...] = ()
    # Councillor name → portfolio, where the site's key posts do not say it plainly.
    portfolios: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    council: CouncilSettings = CouncilSettings()
    rules: RulesSettings = RulesSettings()
    escalation: EscalationSettings = EscalationSettings()
    outbox: OutboxSettings = OutboxSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    server: ServerSettings = ServerSettings()
    # Each installed adapter's own settings, by its entry-point name (see bot.delivery.ports).
    adapters: Mapping[str, Any] = field(default_factory=dict)
    moderngov: tuple[ModernGovSource, ...] = ()
    pinned_now: datetime | None = None
    source_path: str = "(built-in defaults)"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def resolve_config_path(explicit: str | None) -> Path | None:
    """The file to read: the one asked for, else ./config.toml, else the bundled example."""
    if explicit:
        path = Path(explicit)
        if not path.exists():
            raise ConfigError(f"config file {explicit} does not exist")
        return path
    local = Path("config.toml")
    if local.exists():
        return local
    return EXAMPLE_CONFIG if EXAMPLE_CONFIG.exists() else None


def load_settings(
    config_path: str | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    adapters: bool = True,
) -> Settings:
    """Read the TOML file (if any) and apply environment overrides; `adapters=False` leaves
    the adapters' own tables unread (for a report that sends nothing)."""
    environ = os.environ if environ is None else environ
    path = resolve_config_path(config_path)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    where = str(path) if path else "(built-in defaults)"
    settings = _apply_environment(_from_mapping(raw, where), environ)
    if not adapters:
        return settings
    return replace(settings, adapters=read_adapter_settings(raw, where, environ))


def read_adapter_settings(
    raw: Mapping[str, Any], where: str, environ: Mapping[str, str]
) -> dict[str, Any]:
    """Each installed adapter reads its own table (`[slack]`, `[teams]`…) and variables."""
    from bot.delivery.plugins import installed_adapters

    return {
        name: plugin.read_settings(SettingsTable(raw, where, environ).sub(name))
        for name, plugin in installed_adapters().items()
    }


def _apply_environment(settings: Settings, env: Mapping[str, str]) -> Settings:
    pinned = settings.pinned_now
    if env.get("NOSURPRISES_NOW"):
        pinned = _parse_now(env["NOSURPRISES_NOW"], "NOSURPRISES_NOW", settings.council.timezone)
    server = settings.server
    if env.get("NOSURPRISES_HOST"):
        server = replace(server, host=env["NOSURPRISES_HOST"])
    if env.get("NOSURPRISES_PORT"):
        port = env["NOSURPRISES_PORT"]
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"NOSURPRISES_PORT: {port!r} is not a port number")
        server = replace(server, port=int(port))
    if env.get("NOSURPRISES_PUBLIC_URL"):  # the same address the email adapter's links use
        server = replace(server, public_url=env["NOSURPRISES_PUBLIC_URL"].rstrip("/"))
    return replace(
        settings,
        database_url=env.get("NOSURPRISES_DATABASE_URL", settings.database_url),
        pinned_now=pinned,
        server=server,
    )


def _parse_now(text: str, where: str, timezone: str) -> datetime:
    try:
        return parse_datetime(text, timezone)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


class SettingsTable:
    """Typed access to one TOML table, naming the file and key in every error."""

    def __init__(
        self, table: Mapping[str, Any], where: str, environ: Mapping[str, str] | None = None
    ) -> None:
        self.table = table
        self.where = where
        self.environ: Mapping[str, str] = environ or {}

    def sub(self, key: str) -> SettingsTable:
        value = self.table.get(key, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.where}.{key}: expected a table")
        return SettingsTable(value, f"{self.where}.{key}", self.environ)

    def get(self, key: str, kind: type, default: Any, *, env: str = "") -> Any:
        """The value of `key`, else the default; an environment variable `env` overrides both."""
        if env and env in self.environ:
            return self._from_environment(env, kind)
        if key not in self.table:
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is time and isinstance(value, str):
            try:
                return time.fromisoformat(value)
            except ValueError as exc:
                raise ConfigError(f"{self.where}.{key}: expected HH:MM, got {value!r}") from exc
        if kind is date and isinstance(value, str):
            value = _date(value, f"{self.where}.{key}")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(
                f"{self.where}.{key}: expected {kind.__name__}, got {type(value).__name__}"
            )
        return value

    def _from_environment(self, name: str, kind: type) -> Any:
        text = self.environ[name]
        if kind is bool:
            return text.strip().lower() in ("1", "true", "yes", "on")
        try:
            return kind(text)
        except ValueError as exc:
            raise ConfigError(f"{name}: expected {kind.__name__}") from exc

    def emails(self, key: str) -> tuple[str, ...]:
        """A list of email addresses, lower-cased."""
        values = self.table.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and "@" in v for v in values):
            raise ConfigError(f"{self.where}.{key}: expected a list of email addresses")
        return tuple(v.strip().lower() for v in values)

    def dates(self, key: str) -> tuple[date, ...]:
        values = self.table.get(key, [])
        if not isinstance(values, list):
            raise ConfigError(f"{self.where}.{key}: expected a list of dates")
        return tuple(
            v if isinstance(v, date) else _date(str(v), f"{self.where}.{key}") for v in values
        )


def _date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: expected YYYY-MM-DD, got {text!r}") from exc


def _from_mapping(raw: Mapping[str, Any], where: str) -> Settings:
    root = SettingsTable(raw, where)
    c = root.sub("council")
    defaults = CouncilSettings()
    hours = c.sub("working_hours")
    council = CouncilSettings(
        name=c.get("name", str, defaults.name),
        timezone=c.get("timezone", str, defaults.timezone),
        nation=c.get("nation", str, defaults.nation),
        closure_days=c.dates("closure_days"),
        working_hours_start=hours.get("start", time, defaults.working_hours_start),
        working_hours_end=hours.get("end", time, defaults.working_hours_end),
        clear_days_skip_non_working=c.get(
            "clear_days_skip_non_working", bool, defaults.clear_days_skip_non_working
        ),
        language=c.get("language", str, defaults.language).strip().lower(),
        communications=c.emails("communications"),
    )
    try:
        languages(council.language)
    except ValueError as exc:
        raise ConfigError(f"{where}.council.language: {exc}") from None
    if council.nation not in NATIONS:
        raise ConfigError(
            f"{where}.council.nation: expected england, wales, scotland or northern-ireland, "
            f"got {council.nation!r}"
        )
    council = replace(council, nation=NATIONS[council.nation])
    if council.working_hours_start >= council.working_hours_end:
        raise ConfigError(f"{where}.council.working_hours: start must be before end")

    r = root.sub("rules")
    rule_defaults = RulesSettings()

    def rule(name: str) -> BriefingRule:
        table = r.sub(name)
        base: BriefingRule = getattr(rule_defaults, name)
        return BriefingRule(
            enabled=table.get("enabled", bool, base.enabled),
            due_working_days=table.get("due_working_days", int, base.due_working_days),
        )

    rules = RulesSettings(
        horizon_days=r.get("horizon_days", int, rule_defaults.horizon_days),
        portfolio_holder=rule("portfolio_holder"),
        ward_councillors=rule("ward_councillors"),
        leader_key_decisions=rule("leader_key_decisions"),
        statutory_notice_clear_days=r.get(
            "statutory_notice_clear_days", int, rule_defaults.statutory_notice_clear_days
        ),
        amber_within_working_days=r.get(
            "amber_within_working_days", int, rule_defaults.amber_within_working_days
        ),
        decision_close_working_days=r.get(
            "decision_close_working_days", int, rule_defaults.decision_close_working_days
        ),
    )

    e = root.sub("escalation")
    steps: tuple[EscalationStep, ...] = DEFAULT_LADDER
    if "steps" in e.table:
        raw_steps = e.table["steps"]
        if not isinstance(raw_steps, list) or not raw_steps:
            raise ConfigError(f"{where}.escalation.steps: expected a non-empty list of steps")
        parsed = []
        for index, item in enumerate(raw_steps):
            step = SettingsTable(item, f"{where}.escalation.steps[{index}]")
            recipient = step.get("recipient", str, "briefer")
            if recipient not in STEP_RECIPIENTS:
                raise ConfigError(
                    f"{step.where}.recipient: expected one of {sorted(STEP_RECIPIENTS)}, "
                    f"got {recipient!r}"
                )
            parsed.append(
                EscalationStep(
                    name=step.get("name", str, f"step_{index + 1}"),
                    offset_working_days=step.get("offset_working_days", int, 0),
                    recipient=recipient,
                )
            )
        offsets = [s.offset_working_days for s in parsed]
        if offsets != sorted(offsets):
            raise ConfigError(f"{where}.escalation.steps: steps must be in time order")
        steps = tuple(parsed)
    escalation = EscalationSettings(
        steps=steps,
        member_reminder_after_working_days=e.get(
            "member_reminder_after_working_days",
            int,
            EscalationSettings().member_reminder_after_working_days,
        ),
    )

    o = root.sub("outbox")
    od = OutboxSettings()
    outbox = OutboxSettings(
        batch_size=o.get("batch_size", int, od.batch_size),
        max_attempts=o.get("max_attempts", int, od.max_attempts),
        backoff_base_seconds=o.get("backoff_base_seconds", float, od.backoff_base_seconds),
        backoff_max_seconds=o.get("backoff_max_seconds", float, od.backoff_max_seconds),
        claim_timeout_seconds=o.get("claim_timeout_seconds", float, od.claim_timeout_seconds),
        concurrency=o.get("concurrency", int, od.concurrency),
    )

    s = root.sub("scheduler")
    sd = SchedulerSettings()
    scheduler = SchedulerSettings(
        sweep_interval_seconds=s.get("sweep_interval_seconds", int, sd.sweep_interval_seconds),
        deliver_interval_seconds=s.get(
            "deliver_interval_seconds", int, sd.deliver_interval_seconds
        ),
        audit_check_interval_seconds=s.get(
            "audit_check_interval_seconds", int, sd.audit_check_interval_seconds
        ),
        officer_digest_time=s.get("officer_digest_time", time, sd.officer_digest_time),
        chief_executive_digest_weekday=s.get(
            "chief_executive_digest_weekday", int, sd.chief_executive_digest_weekday
        ),
        chief_executive_digest_time=s.get(
            "chief_executive_digest_time", time, sd.chief_executive_digest_time
        ),
    )

    sv = root.sub("server")
    server = ServerSettings(
        host=sv.get("host", str, ServerSettings.host),
        port=sv.get("port", int, ServerSettings.port),
        public_url=sv.get("public_url", str, "").rstrip("/"),
    )

    sources = []
    for index, item in enumerate(raw.get("sources", {}).get("moderngov", []) or []):
        src = SettingsTable(item, f"{where}.sources.moderngov[{index}]")
        committees = src.table.get("executive_committees", [])
        procedural = src.table.get("procedural_items", [])
        if not isinstance(procedural, list) or not all(isinstance(p, str) for p in procedural):
            raise ConfigError(f"{src.where}.procedural_items: expected a list of phrases")
        mapping = src.sub("portfolios").table
        if not all(isinstance(v, str) for v in mapping.values()):
            raise ConfigError(f'{src.where}.portfolios: expected councillor = "portfolio"')
        sources.append(
            ModernGovSource(
                name=src.get("name", str, f"moderngov-{index + 1}"),
                base_url=src.get("base_url", str, ""),
                executive_committees=tuple(str(x) for x in committees),
                interval_minutes=src.get("interval_minutes", int, 60),
                requests_per_second=src.get("requests_per_second", float, 3.0),
                timeout_seconds=src.get("timeout_seconds", float, 20.0),
                contact=src.get("contact", str, ""),
                procedural_items=tuple(procedural),
                portfolios=dict(mapping),
            )
        )

    pinned = None
    clock = root.sub("clock")
    if "now" in clock.table:
        pinned = _parse_now(str(clock.table["now"]), f"{where}.clock.now", council.timezone)

    return Settings(
        database_url=root.sub("database").get("url", str, DEFAULT_DATABASE_URL),
        council=council,
        rules=rules,
        escalation=escalation,
        outbox=outbox,
        scheduler=scheduler,
        server=server,
        moderngov=tuple(sources),
        pinned_now=pinned,
        source_path=where,
    )
