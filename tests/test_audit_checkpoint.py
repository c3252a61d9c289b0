"""The audit log proves it has not been cut short: a signed head (key in the environment only),
a head copied out of the database (--expect), and a deleted head that never breaks a write."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from livebot import Bot, make_bot, sqlite_url
from sqlalchemy import text

from bot.cli import main as cli
from bot.store import audit
from bot.views.digests import audit_head_line

NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
KEY = "s3cret-audit-key-for-tests"
LAST = 18  # the sample council's 13 import events and the five below


@pytest.fixture
def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Bot:
    monkeypatch.delenv(audit.AUDIT_KEY_ENV, raising=False)
    bot = make_bot(sqlite_url(tmp_path), NOW)
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", str(bot.app.engine.url))
    write(bot, 5)
    return bot


def write(bot: Bot, count: int) -> None:
    with bot.app.session() as session:
        for index in range(count):
            audit.record(session, action="test_event", at=NOW, reason=f"event {index}")


def verify(bot: Bot, expect: str | None = None) -> audit.VerifyResult:
    with bot.app.session() as session:
        return audit.verify(session, expect=expect)


def sql(bot: Bot, statement: str, **params) -> list:
    with bot.app.engine.begin() as connection:
        result = connection.execute(text(statement), params)
        return list(result) if result.returns_rows else []


def cut_tail(bot: Bot, keep: int, *, head: str) -> None:
    """What a careful tamperer does: drop events after `keep`, and delete or rewrite the head."""
    sql(bot, "DELETE FROM auditevent WHERE seq > :keep", keep=keep)
    if head == "delete":
        sql(bot, "DELETE FROM audithead")
    else:
        [(last_hash,)] = sql(bot, "SELECT hash FROM auditevent WHERE seq = :keep", keep=keep)
        sql(bot, "UPDATE audithead SET seq = :keep, hash = :h", keep=keep, h=last_hash)


def test_a_cut_tail_with_the_head_deleted_is_reported_in_words(bot: Bot, capsys):
    cut_tail(bot, 15, head="delete")
    result = verify(bot)
    assert not result.ok and "the chain head record is missing" in result.problem
    assert cli(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "cannot be trusted: the chain head record is missing" in out
    assert "Chain head: event 15" in out and "Traceback" not in out


def test_the_next_write_after_a_deleted_head_goes_on_and_the_chain_keeps_the_evidence(bot: Bot):
    cut_tail(bot, 15, head="delete")
    write(bot, 2)  # used to die on a UNIQUE constraint
    [(count, top)] = sql(bot, "SELECT count(*), max(seq) FROM auditevent")
    assert (count, top) == (18, 18)
    [(action,)] = sql(bot, "SELECT action FROM auditevent WHERE seq = 16")
    assert action == audit.HEAD_MISSING
    result = verify(bot)
    assert not result.ok and result.first_broken_seq == 16
    assert "the chain head record was missing; the chain continues from event 15" in result.problem


def test_with_a_key_a_rewritten_head_shows(bot: Bot, monkeypatch):
    monkeypatch.setenv(audit.AUDIT_KEY_ENV, KEY)
    write(bot, 1)  # the first write with the key signs the head
    assert verify(bot).ok and verify(bot).signed is True
    cut_tail(bot, 15, head="rewrite")
    result = verify(bot)
    assert not result.ok and "signature does not match" in result.problem
    # The next write records it in the chain instead of signing over it.
    write(bot, 1)
    [(action,)] = sql(bot, "SELECT action FROM auditevent WHERE seq = 16")
    assert action == audit.HEAD_SIGNATURE_WRONG
    assert not verify(bot).ok


def test_without_a_key_verify_warns_that_a_rewritten_head_cannot_show(bot: Bot, capsys):
    cut_tail(bot, 15, head="rewrite")
    result = verify(bot)
    assert result.ok and result.signed is False and result.warnings == (audit.NO_KEY_WARNING,)
    assert cli(["audit", "verify"]) == 0
    assert "NOSURPRISES_AUDIT_KEY is not set" in capsys.readouterr().err


def test_an_unsigned_head_fails_once_a_key_is_set_until_the_next_write(bot: Bot, monkeypatch):
    monkeypatch.setenv(audit.AUDIT_KEY_ENV, KEY)
    assert "the chain head is not signed" in verify(bot).problem
    write(bot, 1)
    assert verify(bot).ok


def test_the_key_is_never_stored_or_printed(bot: Bot, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(audit.AUDIT_KEY_ENV, KEY)
    write(bot, 3)
    assert cli(["audit", "verify", "--json"]) == 0
    assert cli(["audit", "export", "--output", str(tmp_path / "log.csv")]) == 0
    captured = capsys.readouterr()
    assert KEY not in captured.out + captured.err
    database = Path(str(bot.app.engine.url.database)).read_bytes()
    assert KEY.encode() not in database
    [(mac,)] = sql(bot, "SELECT mac FROM audithead")
    assert len(mac) == 64 and mac == audit.sign_head(KEY.encode(), 21, verify(bot).head_hash)


def test_expect_checks_the_log_against_a_head_saved_elsewhere(bot: Bot, capsys):
    saved = verify(bot).head_hash
    write(bot, 2)
    assert cli(["audit", "verify", "--expect", saved]) == 0
    assert "The saved head is event 18; 2 event(s) were written since." in capsys.readouterr().out
    # Cut back past the saved head and rewrite the head record to match: only the copy shows it.
    cut_tail(bot, 16, head="rewrite")
    assert verify(bot).ok
    assert cli(["audit", "verify", "--expect", saved[:16]]) == 1
    assert f"the saved head {saved[:16]}… is not in the log" in capsys.readouterr().out
    assert cli(["audit", "verify", "--expect", "abc"]) == 2
    assert "at least 16 characters" in capsys.readouterr().err


def test_export_prints_the_head_and_count_beside_the_file(bot: Bot, capsys):
    assert cli(["audit", "export", "--format", "json"]) == 0
    captured = capsys.readouterr()
    head = verify(bot).head_hash
    assert f"Chain head: event {LAST}, {head} (not signed)." in captured.err
    assert head in captured.out  # the last event's own hash, in the file itself


def test_the_weekly_digest_carries_a_head_that_verify_accepts(bot: Bot, capsys):
    with bot.app.session() as session:
        line = audit_head_line(session)
    head = verify(bot).head_hash
    assert line.startswith(f"Audit log: {LAST} events, chain head {head[:16]}.")
    assert cli(["audit", "verify", "--expect", head[:16]]) == 0
    sql(bot, "DELETE FROM audithead")
    with bot.app.session() as session:
        assert "head record is missing" in audit_head_line(session)


def test_on_both_backends_a_deleted_head_is_rebuilt_and_a_rewritten_one_shows(
    database_url: str, monkeypatch
):
    monkeypatch.setenv(audit.AUDIT_KEY_ENV, KEY)
    bot = make_bot(database_url, NOW, migrate=True)
    try:
        write(bot, 3)
        assert verify(bot).ok and verify(bot).signed is True
        last = verify(bot).head_seq
        cut_tail(bot, last - 2, head="rewrite")
        assert "signature does not match" in verify(bot).problem
        sql(bot, "DELETE FROM audithead")
        write(bot, 1)  # no UNIQUE violation on either backend
        result = verify(bot)
        assert not result.ok and result.first_broken_seq == last - 1
        # The events kept, then the note that the head was missing, then the new event.
        [(action,)] = sql(bot, "SELECT action FROM auditevent WHERE seq = :s", s=last - 1)
        assert action == audit.HEAD_MISSING and result.head_seq == last
    finally:
        bot.app.engine.dispose()
