"""The audit log: a hash chain that names the first broken event after any edit or deletion."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from livebot import Bot, make_bot, sqlite_url
from sqlalchemy import insert, select, text

from bot.cli import main as cli
from bot.store import audit
from bot.store.models import AuditEvent
from bot.timeutil import as_utc

NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)


@pytest.fixture
def bot(tmp_path: Path) -> Bot:
    bot = make_bot(sqlite_url(tmp_path), NOW)
    with bot.app.session() as session:
        for index in range(5):
            audit.record(
                session,
                action="test_event",
                at=NOW,
                actor_email="a@x.gov.uk",
                reason=f"event {index}",
                details={"n": index},
            )
    return bot


def verify(bot: Bot) -> audit.VerifyResult:
    with bot.app.session() as session:
        return audit.verify(session)


def sql(bot: Bot, statement: str) -> None:
    with bot.app.engine.begin() as connection:
        connection.execute(text(statement))


# The sample council's import writes 13 events (the directory, then 12 decisions added), so
# the five events above are 14 to 18.
LAST = 18


def test_an_intact_chain_verifies(bot: Bot):
    result = verify(bot)
    assert result.ok and result.checked == LAST


def test_an_edited_row_is_named(bot: Bot):
    sql(bot, "UPDATE auditevent SET reason = 'nothing to see' WHERE seq = 13")
    result = verify(bot)
    assert not result.ok and result.first_broken_seq == 13
    assert "altered" in result.problem


def test_editing_the_details_is_caught_too(bot: Bot):
    sql(bot, """UPDATE auditevent SET details = '{"n": 99}' WHERE seq = 12""")
    assert verify(bot).first_broken_seq == 12


def test_a_deleted_middle_row_is_named(bot: Bot):
    sql(bot, "DELETE FROM auditevent WHERE seq = 7")
    result = verify(bot)
    assert not result.ok and result.first_broken_seq == 7 and "missing" in result.problem


def test_a_deleted_last_row_is_caught(bot: Bot):
    sql(bot, f"DELETE FROM auditevent WHERE seq = {LAST}")
    result = verify(bot)
    assert not result.ok and result.first_broken_seq == LAST
    assert "removed" in result.problem


HASHED = (
    "seq",
    "prev_hash",
    "at",
    "actor_email",
    "on_behalf_of",
    "platform",
    "action",
    "outcome",
    "decision_ref",
    "briefing_id",
    "reason",
    "details",
)


def event_hash(event: dict[str, Any]) -> str:
    """An event's SHA-256, recomputed from its fields as anyone who has read audit.py could:
    the canonical JSON of the row (with its seq and prev_hash), sorted keys, no spaces."""
    body = {name: event[name] for name in HASHED}
    body["at"] = as_utc(event["at"]).isoformat(timespec="microseconds")
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def stored_event(bot: Bot, seq: int) -> dict[str, Any]:
    with bot.app.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.seq == seq)).one()
        return {name: getattr(event, name) for name in (*HASHED, "hash")}


def test_a_row_rewritten_with_its_own_hash_recomputed_breaks_the_link_to_the_next(bot: Bot):
    """The forger rewrites event 10 and gives it a hash that checks out for the row itself:
    only the chain (event 11's prev_hash) can tell, and it names event 11."""
    original = stored_event(bot, 10)
    assert event_hash(original) == original["hash"], "the recipe above no longer matches"
    forged = {**original, "reason": "nothing to see"}
    with bot.app.engine.begin() as connection:
        connection.execute(
            text("UPDATE auditevent SET reason = :reason, hash = :hash WHERE seq = 10"),
            {"reason": forged["reason"], "hash": event_hash(forged)},
        )
    assert event_hash(stored_event(bot, 10)) == stored_event(bot, 10)["hash"]
    result = verify(bot)
    assert not result.ok and result.first_broken_seq == 11
    assert "does not link to the event before it" in result.problem


def test_cli_verify_and_export(bot: Bot, monkeypatch: pytest.MonkeyPatch, capsys, tmp_path):
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", str(bot.app.engine.url))
    assert cli(["audit", "verify"]) == 0
    assert f"intact: {LAST} event(s)" in capsys.readouterr().out
    assert cli(["audit", "export", "--format", "json", "--since", "2027-01-12"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["seq"] for r in rows] == list(range(1, LAST + 1))
    assert cli(["audit", "export", "--since", "2027-01-13"]) == 0
    assert list(csv.DictReader(io.StringIO(capsys.readouterr().out))) == []
    out = tmp_path / "log.csv"
    assert cli(["audit", "export", "--output", str(out)]) == 0
    exported = list(csv.DictReader(out.open(encoding="utf-8")))
    assert exported[-1]["reason"] == "event 4" and json.loads(exported[-1]["details"]) == {"n": 4}
    sql(bot, "UPDATE auditevent SET actor_email = 'someone.else@x.gov.uk' WHERE seq = 14")
    assert cli(["audit", "verify"]) == 1
    assert "first broken event: 14" in capsys.readouterr().out


def _canonical_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _stored_texts(bot: Bot, action: str) -> list[str]:
    """The details column's text as the database holds it."""
    with bot.app.engine.connect() as connection:
        return list(
            connection.execute(
                text("SELECT CAST(details AS TEXT) FROM auditevent WHERE action = :a ORDER BY seq"),
                {"a": action},
            ).scalars()
        )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_details_are_stored_as_the_text_the_hash_is_taken_over(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
):
    """One encoding: the stored text is the canonical text hashed; values JSON would change
    (a tuple, a datetime) are stored as JSON gives them back, so verify reads what was hashed."""
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    bot = make_bot(url, NOW, migrate=True, seed=False)
    plain = {"member": "m@x.gov.uk", "n": 3, "late": True, "none": None, "name": "Siân Ŵ"}
    mixed = {"when": datetime(2027, 1, 12, tzinfo=UTC), "refs": ("A", "B"), "ratio": 0.5}
    as_read = json.loads(json.dumps(mixed, default=str))
    assert audit.details_text(plain) == _canonical_text(plain)
    assert audit.details_text(mixed) == _canonical_text(as_read)
    assert audit.details_text({}) == "{}"
    with bot.app.session() as session:
        for details in (plain, mixed, {}):
            audit.append(session, [audit.EventData(action="mixed", at=NOW, details=details)])
        session.commit()
        stored = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "mixed").order_by(AuditEvent.seq)
        ).all()
    assert stored == [plain, as_read, {}]
    assert stored[1]["refs"] == ["A", "B"]
    assert _stored_texts(bot, "mixed") == [_canonical_text(plain), _canonical_text(as_read), "{}"]
    assert verify(bot).ok
    bot.app.engine.dispose()


def _append_as_before(session: Any, details: list[dict[str, Any]]) -> None:
    """Events written as the code before the sixth pass wrote them: the details bound through
    the JSON column (json.dumps: insertion order, spaces, non-ASCII escaped)."""
    head = session.execute(text("SELECT seq, hash FROM audithead WHERE id = 1")).one()
    seq, prev = head
    rows = []
    for index, value in enumerate(details):
        seq += 1
        row: dict[str, Any] = {
            "seq": seq,
            "at": NOW,
            "actor_email": "old@x.gov.uk",
            "on_behalf_of": "",
            "platform": "sweep",
            "action": "old_code",
            "outcome": "done",
            "decision_ref": "HBC-2027-001",
            "briefing_id": index + 1,
            "reason": "written by the old code",
            "details": value,
            "prev_hash": prev,
        }
        prev = row["hash"] = hashlib.sha256(audit._canonical(seq, prev, row)).hexdigest()
        rows.append(row)
    session.execute(insert(AuditEvent), rows)  # SQLAlchemy's own JSON encoding
    session.execute(text("UPDATE audithead SET seq = :s, hash = :h"), {"s": seq, "h": prev})


def test_a_chain_written_by_the_old_encoding_then_extended_verifies_and_exports(bot: Bot, capsys):
    old = [{"member": "m@x.gov.uk", "briefer": "b@x.gov.uk", "due_at": "2027-02-01"}, {"é": "ü"}]
    new = {"member": "n@x.gov.uk", "briefer": "c@x.gov.uk", "due_at": "2027-02-02"}
    with bot.app.session() as session:
        _append_as_before(session, old)
        audit.append(session, [audit.EventData(action="new_code", at=NOW, details=new)])
    texts = _stored_texts(bot, "old_code") + _stored_texts(bot, "new_code")
    # Both encodings are in the one chain: the old one's, then the canonical one.
    assert texts == [json.dumps(old[0]), json.dumps(old[1]), _canonical_text(new)]
    assert texts[0] != _canonical_text(old[0])
    result = verify(bot)
    assert result.ok and result.checked == LAST + 3
    with bot.app.session() as session:
        exported = {row["action"]: row for row in audit.export_rows(session)}
        as_csv = audit.export_text(session, fmt="csv")
    assert exported["new_code"]["details"] == new
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert [json.loads(r["details"]) for r in rows[-3:]] == [*old, new]
    # The CSV has always written details with sorted keys, whichever encoding stored them.
    assert rows[-1]["details"] == json.dumps(new, sort_keys=True)


def test_the_canonical_form_is_the_sorted_json_of_the_event_byte_for_byte():
    import json
    from datetime import timedelta

    from bot.store.audit import _canonical
    from bot.store.models import BriefingState

    at = datetime(2027, 1, 5, 9, 30, 0, 123, tzinfo=UTC)
    odd = 'quote " back \\ slash, tab\t, newline\n, NUL \x00, é ü 漢字 😀 \u2028 \x7f'
    events = [
        {"briefing_id": 7, "details": {}, "reason": "", "action": "briefing_created"},
        {"briefing_id": None, "details": {"b": [1, 2.5, None, True], "a": {"z": odd}}},
        {"briefing_id": 12, "details": {"changes": {"due_at": ["x", "y"]}}, "reason": odd},
        {"briefing_id": True, "details": {}},  # not an int: the general form
        {"briefing_id": 3, "details": {}, "action": BriefingState.OPEN},  # a str enum
        {"briefing_id": 3, "details": {}, "outcome": 5},  # not text: the general form
    ]
    for index, extra in enumerate(events):
        event = {
            "at": at + timedelta(days=index),
            "actor_email": "officer@example.org",
            "on_behalf_of": odd,
            "platform": "sweep",
            "action": "briefing_updated",
            "outcome": "done",
            "decision_ref": "HBC-2027-001",
            "reason": "changed: due_at",
            **extra,
        }
        expected = json.dumps(
            {
                "seq": 40 + index,
                "prev_hash": "ab" * 32,
                **{k: v for k, v in event.items() if k != "at"},
                "at": event["at"].isoformat(timespec="microseconds"),
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        assert _canonical(40 + index, "ab" * 32, event) == expected


def test_the_encoder_built_once_writes_what_json_dumps_writes():
    odd = 'quote " back \\ slash, tab\t, NUL \x00, é ü 漢字 😀 \u2028 \x7f'
    values: list[dict[str, Any]] = [
        {},
        {"member": "m@x.gov.uk", "briefer": "b@x.gov.uk", "due_at": "2027-02-01T17:00:00+00:00"},
        {"z": odd, "a": 1, "b": True, "c": None, odd: -5},
        {"changes": {"due_at": ["x", "y"], "reasons": [[odd], ["b"]]}, "n": 2.5, "big": 10**20},
    ]
    for value in values:
        expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert audit._canonical_text(value) == expected
        assert audit.details_text(value) == expected


def test_events_appended_alike_are_written_as_append_writes_them(database_url: str):
    """`append_alike` (a sweep's new briefings) writes the same rows as `append` given the
    same events, unusual text included, and a chain that verifies, on both backends."""
    at = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)
    refs = ["HBC-1", 'HBC-"2"', "HBC-3 ünïcode %s %d"]
    reasons = ["Ward councillor for Mill", "Portfolio holder for “Housing”; 100%", ""]
    details = [
        {"member": f"m{i}@example.org", "briefer": "b@example.org", "due_at": at.isoformat()}
        for i in range(3)
    ]
    bot = make_bot(database_url, at, migrate=True)
    with bot.app.session() as session:
        before = audit.current_head(session)
        assert before is not None
        audit.append_alike(
            session,
            action="briefing_created",
            at=at,
            platform="sweep",
            refs=refs,
            briefing_ids=[7, 8, 9],
            reasons=reasons,
            details=[audit.details_text(d) for d in details],
        )
        audit.append(
            session,
            [
                audit.EventData(
                    action="briefing_created",
                    at=at,
                    platform="sweep",
                    decision_ref=ref,
                    briefing_id=briefing_id,
                    reason=reason,
                    details=detail,
                )
                for ref, briefing_id, reason, detail in zip(
                    refs, [7, 8, 9], reasons, details, strict=True
                )
            ],
        )
    with bot.app.session() as session:
        assert audit.verify(session).ok
        rows = session.execute(
            text(
                "SELECT seq, at, actor_email, on_behalf_of, platform, action, outcome, "
                "decision_ref, briefing_id, reason, CAST(details AS TEXT) FROM auditevent "
                "WHERE seq > :seq ORDER BY seq"
            ),
            {"seq": before[0]},
        ).all()
    assert [r[0] for r in rows] == [before[0] + n for n in range(1, 7)]
    assert [tuple(r)[1:] for r in rows[:3]] == [tuple(r)[1:] for r in rows[3:]]
    assert [r[7] for r in rows[:3]] == refs and rows[2][9] == ""
    bot.app.engine.dispose()
