"""The `nosurprises` command line."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, load_settings
from bot.gc_pause import collection_paused
from bot.logs import LOG_FORMATS, one_line

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.app import App
    from bot.clock import Clock
    from bot.config import Settings
    from bot.store import audit

# Each command imports what it uses when it runs, so `--help` and a light command never pay for
# SQLAlchemy, Alembic, aiohttp or a chat SDK (issue 15: `--help` within 300 ms).

UNEXPECTED = (
    "error: the command stopped on an unexpected problem ({error}). Please report it to your "
    "support team with the command you ran."
)
SAMPLE_COUNCIL = Path(__file__).resolve().parent.parent / "samples" / "harbourside"


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def clock_of(args: argparse.Namespace, settings: Settings) -> Clock:
    """The clock a command runs on: `--now` when given, else the settings' pinned time, else
    the real one."""
    from bot.clock import SettableClock, clock_for
    from bot.timeutil import parse_datetime

    now = getattr(args, "now", None)
    if now:
        return SettableClock(parse_datetime(now, settings.council.timezone))
    return clock_for(settings.pinned_now)


def open_app(args: argparse.Namespace, *, demo: bool = False) -> App:
    from bot.app import App
    from bot.config import Settings

    settings: Settings = args.settings
    if demo and settings.database_url == Settings().database_url:
        settings = settings.with_overrides(database_url="sqlite:///.nosurprises/demo.db")
    return App.open(settings, clock=clock_of(args, settings))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.store import db

    engine = db.make_engine(args.settings.database_url)
    db.upgrade(engine)
    print("The database schema is up to date.")
    return 0


def cmd_import_directory(args: argparse.Namespace) -> int:
    from bot.intake.directory_csv import parse_directory
    from bot.intake.store import store_directory

    app = open_app(args)
    people, portfolios, warnings = parse_directory(args.people, args.portfolios)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    with app.session() as session:
        result = store_directory(session, people, portfolios, now=app.now(), actor=args.actor)
    if args.json:
        _print_json(result.as_dict())
    elif result.unchanged:
        print("The directory is unchanged; nothing was written.")
    else:
        print(
            f"Directory imported: {len(result.added)} added, {len(result.updated)} updated, "
            f"{len(result.removed)} removed; {result.portfolios_changed} portfolio change(s)."
        )
    return 0


def cmd_import_decisions(args: argparse.Namespace) -> int:
    from bot.decisions.exempt import exempt_nation
    from bot.intake.forward_plan_csv import parse_forward_plan
    from bot.intake.store import store_decisions

    app = open_app(args)
    nation = exempt_nation(app.settings.council.nation)
    records, warnings = parse_forward_plan(args.file, nation=nation)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    with app.session() as session:
        result = store_decisions(
            session,
            records,
            source="csv",
            now=app.now(),
            complete=not args.partial,
            actor=args.actor,
        )
    if args.json:
        _print_json(result.as_dict())
        return 0
    if not result.wrote_anything:
        print(f"No changes: {result.unchanged} item(s) already up to date.")
        return 0
    print(
        f"Forward plan imported: {len(result.created)} new, {len(result.changed)} changed, "
        f"{result.unchanged} unchanged, {len(result.disappeared)} no longer listed."
    )
    for ref, changes in result.changed.items():
        for name, old, new in changes:
            print(f"  {ref}: {name}: {old or '(blank)'} → {new or '(blank)'}")
    for ref in result.disappeared:
        print(f"  {ref}: no longer in the file (kept, and flagged)")
    return 0


def cmd_import_moderngov(args: argparse.Namespace) -> int:
    from bot.intake.sources import pull_sources

    app = open_app(args)
    if not app.settings.moderngov:
        print(
            "No ModernGov sources are configured ([[sources.moderngov]] in the config).",
            file=sys.stderr,
        )
        return 2

    if args.apply and not args.directory:
        print("--apply goes with --directory.", file=sys.stderr)
        return 2
    if args.directory:
        return _sync_directory(app, args)

    def progress(message: str) -> None:
        print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)

    results = pull_sources(app=app, force=True, only=args.source, progress=progress)
    print("\r\033[K", end="", file=sys.stderr)
    if args.json:
        _print_json([r.as_dict() for r in results])
    for result in results:
        if args.json:
            continue
        if result.ok:
            changes = result.changes
            print(
                f"{result.source}: {result.items} item(s); {changes.get('created', 0)} new, "
                f"{changes.get('changed', 0)} changed, {changes.get('disappeared', 0)} no "
                "longer listed."
            )
        else:
            print(f"{result.source}: not imported, the last good data is kept: {result.error}")
    return 0 if all(r.ok for r in results) else 1


def _sync_directory(app: App, args: argparse.Namespace) -> int:
    """Show what the site says has changed among councillors; write it only with --apply."""
    from bot.intake.sources import sync_directories

    results = sync_directories(app=app, apply=args.apply, only=args.source, actor=args.actor)
    if args.json:
        _print_json([r.as_dict() for r in results])
        return 0 if all(r.ok for r in results) else 1
    for result in results:
        if not result.ok:
            print(f"{result.source}: the directory is unchanged: {result.error}")
            continue
        changes = result.plan.changes
        if not changes:
            print(f"{result.source}: the directory already matches the site.")
        elif result.applied:
            print(f"{result.source}: {len(changes)} change(s) applied to the directory:")
        else:
            print(
                f"{result.source}: {len(changes)} change(s) would be made to the directory "
                "(run again with --apply to make them):"
            )
        for change in changes:
            print(f"  {change}")
        for warning in result.plan.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return 0 if all(r.ok for r in results) else 1


def cmd_sweep(args: argparse.Namespace) -> int:
    from bot.ticks import sweep_and_refresh

    app = open_app(args)
    with app.session() as session:
        report = sweep_and_refresh(app=app, session=session, dry_run=args.dry_run)
    if args.json:
        _print_json(report.as_dict())
        return 0
    verb = "Would" if args.dry_run else "Did"
    counts = report.sweep.counts()
    summary = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "nothing to change"
    print(
        f"Sweep at {app.calendar.local(report.sweep.now):%a %d %b %Y %H:%M}: "
        f"{report.sweep.decisions} decision(s), {report.sweep.assessed} re-assessed; "
        f"{summary}."
    )
    for action in report.sweep.actions:
        due = app.calendar.local(action.due_at).strftime("%a %d %b") if action.due_at else "—"
        print(
            f"  {verb.lower()} {action.kind}: {action.ref} → {action.member_email} "
            f"(briefer {action.briefer_email or '—'}, due {due}) because {action.why}"
        )
    for step in report.steps:
        print(f"  {verb.lower()} send {step.step}: {step.ref} → {step.recipient} ({step.why})")
    for ref, why in report.sweep.not_assessed.items():
        print(f"  skipped {ref}: could not be assessed: {why}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """The status on plain statements over a bare connection, without the App: no SQLModel,
    pydantic or ORM is imported, a third of this command's start-up (issue 15)."""
    from bot.store.engine import open_engine

    settings: Settings = args.settings
    engine = open_engine(settings.database_url)
    try:
        return _print_status(args, engine, settings)
    finally:
        engine.dispose()  # connections closed now, not whenever the process is torn down


def _print_status(args: argparse.Namespace, engine: Engine, settings: Settings) -> int:
    from bot.decisions.calendar import CouncilCalendar
    from bot.intake.source_health import configured_sources, source_health, stale_sources
    from bot.store.directory import load_directory
    from bot.store.reads import ConnectionReads
    from bot.views.status import NotInDirectory, build_status, format_status_text

    calendar = CouncilCalendar.from_settings(settings.council)
    with engine.connect() as connection:
        reads = ConnectionReads(connection)
        try:
            report = build_status(
                session=reads,
                settings=settings,
                calendar=calendar,
                directory=load_directory(reads),
                now=clock_of(args, settings).now(),
                viewer_email=args.as_email,
                days=args.days,
                portfolio=args.portfolio or "",
            )
        except NotInDirectory:
            print(f"{args.as_email} is not in the council's directory.", file=sys.stderr)
            return 1
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        sources = source_health(reads, configured_sources(settings)) if args.json else []
        stale = stale_sources(reads)
    if args.json:
        _print_json({**report.as_dict(), "sources": sources})
    else:
        print(format_status_text(report, calendar, settings.council.name))
    for name, since in stale:
        local = calendar.local(since)
        print(
            f"warning: source {name} stale since {local:%a %d %b %Y %H:%M}: the last "
            "good data is shown",
            file=sys.stderr,
        )
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from bot.store import audit

    app = open_app(args)
    with app.session() as session:
        result = audit.verify(session, expect=args.expect)
    if args.json:
        _print_json(result.__dict__)
        return 0 if result.ok else 1
    if result.ok:
        print(f"The audit log is intact: {result.checked} event(s) verified.")
        if result.expected_seq is not None:
            print(
                f"The saved head is event {result.expected_seq}; "
                f"{result.checked - result.expected_seq} event(s) were written since."
            )
    else:
        broken = (
            f" (first broken event: {result.first_broken_seq})" if result.first_broken_seq else ""
        )
        print(f"The audit log cannot be trusted: {result.problem}{broken}.")
    print(audit_head_line(result))
    for warning in result.warnings:
        print(f"warning: {warning}.", file=sys.stderr)
    return 0 if result.ok else 1


def audit_head_line(result: audit.VerifyResult) -> str:
    """The chain's count and head, to copy somewhere outside the database."""
    signed = {True: "signed", False: "not signed", None: "signature not checked"}[result.signed]
    return f"Chain head: event {result.head_seq}, {result.head_hash} ({signed})."


def cmd_audit_export(args: argparse.Namespace) -> int:
    from bot.store import audit

    app = open_app(args)
    since = None
    if args.since:
        since = datetime.combine(date.fromisoformat(args.since), datetime.min.time(), UTC)
    with app.session() as session:
        text = audit.export_text(session, since=since, fmt=args.format)
        result = audit.verify(session)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Wrote {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    # On standard error, so the exported file stays pure CSV or JSON.
    print(audit_head_line(result), file=sys.stderr)
    if not result.ok:
        print(f"warning: the audit log cannot be trusted: {result.problem}.", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.server import CannotListen, serve

    app = open_app(args, demo=args.demo)
    if args.demo:
        seed_sample_council(app)
    try:
        return serve(
            app, port=args.port, console=wants_console(args, sys.stdin), log_format=args.log_format
        )
    except CannotListen as exc:
        print(f"error: {exc}.", file=sys.stderr)
        return 2


def wants_console(args: argparse.Namespace, stdin: Any) -> bool:
    """The console reads standard input only when asked, or when a person is at a terminal:
    under systemd or in a container the server must run until stopped, not until end of input."""
    if args.no_console:
        return False
    return bool(args.console) or bool(stdin is not None and stdin.isatty())


def seed_sample_council(app: App) -> bool:
    """Import the bundled sample council into an empty database. Returns True if it did."""
    from sqlmodel import select

    from bot.intake.directory_csv import parse_directory
    from bot.intake.forward_plan_csv import parse_forward_plan
    from bot.intake.store import store_decisions, store_directory
    from bot.store.models import Person

    with app.session() as session:
        if session.exec(select(Person)).first() is not None:
            return False
        people, portfolios, _ = parse_directory(
            SAMPLE_COUNCIL / "people.csv", SAMPLE_COUNCIL / "portfolios.csv"
        )
        store_directory(session, people, portfolios, now=app.now(), actor="demo")
        records, _ = parse_forward_plan(SAMPLE_COUNCIL / "forward_plan.csv")
        store_decisions(session, records, source="csv", now=app.now(), actor="demo")
    return True


# Reports that send nothing: their command line needs no adapter's commands and their settings
# no adapter's own table, so finding the installed adapters (importlib.metadata, the plugin
# records) is skipped for them (issue 15: `status` within 600 ms).
REPORTS = frozenset({"status", "audit"})


def command_in(argv: Sequence[str]) -> str | None:
    """The command named on a command line (the first word after the global options)."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(*, adapter_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nosurprises",
        description="No Surprises: make sure members are briefed before decisions.",
    )
    parser.add_argument("--config", help="config file (default config.toml, else the example)")
    sub = parser.add_subparsers(dest="command", required=True)

    def now_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--now", help="pretend it is this time (ISO, council local time)")

    dbp = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    dbp.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    imp = sub.add_parser("import", help="import data").add_subparsers(dest="what", required=True)
    d = imp.add_parser("directory", help="people.csv and portfolios.csv")
    d.add_argument("people")
    d.add_argument("portfolios")
    d.add_argument("--json", action="store_true")
    d.add_argument("--actor", default="", help="who is importing (for the audit log)")
    now_option(d)
    d.set_defaults(func=cmd_import_directory)
    f = imp.add_parser("decisions", help="forward_plan.csv")
    f.add_argument("file")
    f.add_argument(
        "--partial",
        action="store_true",
        help="the file lists only some items: do not flag missing ones",
    )
    f.add_argument("--json", action="store_true")
    f.add_argument("--actor", default="")
    now_option(f)
    f.set_defaults(func=cmd_import_decisions)

    m = imp.add_parser("moderngov", help="pull the configured ModernGov sources now")
    m.add_argument("--source", help="only this source (its name in the config)")
    m.add_argument(
        "--directory",
        action="store_true",
        help="councillors, wards, parties and portfolios from the site: show what would change",
    )
    m.add_argument("--apply", action="store_true", help="with --directory: make the changes")
    m.add_argument("--actor", default="", help="who is importing (for the audit log)")
    m.add_argument("--json", action="store_true")
    now_option(m)
    m.set_defaults(func=cmd_import_moderngov)

    s = sub.add_parser("sweep", help="reconcile briefings with the rules and queue reminders")
    now_option(s)
    s.add_argument("--dry-run", action="store_true", help="show what would happen and why")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_sweep)

    st = sub.add_parser("status", help="what could still surprise a member")
    now_option(st)
    st.add_argument("--as", dest="as_email", help="see it as this person (email)")
    st.add_argument("--days", type=int, default=28, help="window in days (default 28)")
    st.add_argument("--portfolio", help="only this portfolio")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)

    au = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit", required=True)
    v = au.add_parser("verify", help="prove the hash chain is intact")
    v.add_argument("--json", action="store_true")
    v.add_argument(
        "--expect",
        metavar="HASH",
        help="a chain head saved outside the database (at least 16 characters): check it is "
        "still in the log",
    )
    v.set_defaults(func=cmd_audit_verify)
    e = au.add_parser("export", help="export the log for scrutiny or FOI")
    e.add_argument("--since", help="YYYY-MM-DD")
    e.add_argument("--format", choices=("csv", "json"), default="csv")
    e.add_argument("--output", help="write to this file instead of standard output")
    e.set_defaults(func=cmd_audit_export)

    sv = sub.add_parser("serve", help="run the bot: HTTP server, scheduler and adapters")
    now_option(sv)
    sv.add_argument(
        "--demo",
        action="store_true",
        help="embedded demo: its own SQLite file with the sample council",
    )
    sv.add_argument("--port", type=int, help="HTTP port (default from config)")
    sv.add_argument(
        "--console",
        action="store_true",
        help="read commands from standard input (the default only when it is a terminal)",
    )
    sv.add_argument("--no-console", action="store_true", help="never read commands from stdin")
    sv.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="text lines, or JSON lines with a request id (default text)",
    )
    sv.set_defaults(func=cmd_serve)

    if not adapter_commands:
        return parser
    # Commands an adapter contributes (e.g. `teams-package`), as pytest plugins add options.
    from bot.delivery.plugins import installed_adapters

    for plugin in installed_adapters().values():
        for command in plugin.commands:
            cp = sub.add_parser(command.name, help=command.help)
            command.configure(cp)
            cp.set_defaults(func=lambda args, run=command.run: run(args, args.settings))
    return parser


# Commands run with the cyclic garbage collector paused. `status` is one short pass that
# allocates mostly while importing SQLAlchemy and keeps what it builds until it prints; the
# collector walked those objects again and again, and once more as the process ended: a tenth
# of its start-up (issue 15). Reference counting still frees everything else.
COLLECTOR_PAUSED = frozenset({"status"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command. With no `argv`, the process's own command line, run as the program."""
    words = list(sys.argv[1:] if argv is None else argv)
    command = command_in(words)
    if command not in COLLECTOR_PAUSED:
        return _run(words, adapters=command not in REPORTS)
    with collection_paused():
        code = _run(words, adapters=command not in REPORTS)
        if argv is None:
            # The process ends now: what it built is left to exit, not walked once more by
            # the collection at exit (its database connections are already closed).
            gc.freeze()
    return code


def _run(words: list[str], *, adapters: bool) -> int:
    args = build_parser(adapter_commands=adapters).parse_args(words)
    from sqlalchemy.exc import OperationalError

    from bot.intake.problems import ImportRejected
    from bot.store.engine import SchemaOutOfDate

    try:
        args.settings = load_settings(args.config, adapters=adapters)
        return int(args.func(args))
    except ImportRejected as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (ConfigError, SchemaOutOfDate) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        # The driver's message names host and user, never the password; the URL is not shown.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(f"error: cannot use the database: {reason}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
    except Exception as exc:  # the last word: never a traceback on an operator's terminal
        print(UNEXPECTED.format(error=one_line(exc)), file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
