"""Chat identities: which platform account is which person, and how to reach them.

Adapters call these (through a worker thread) to map a platform user to the person's email,
and to keep what they need to reach someone later (a Slack user id, a Teams conversation
reference). The core never sees the platform's own types, only this table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.delivery.ports import Account
from bot.store.models import ChatIdentity

if TYPE_CHECKING:
    from bot.app import App


def remember(
    app: App,
    *,
    platform: str,
    email: str,
    user_id: str,
    tenant_id: str = "",
    detail: dict[str, Any] | None = None,
    reachable: bool = True,
) -> None:
    """Create or refresh a person's identity on a platform (safe when two sends race)."""
    for attempt in range(2):
        try:
            _remember(app, platform, email.lower(), user_id, tenant_id, detail, reachable)
            return
        except IntegrityError:
            if attempt:  # the other writer's row is there now: the second pass updates it
                raise


def _remember(
    app: App,
    platform: str,
    email: str,
    user_id: str,
    tenant_id: str,
    detail: dict[str, Any] | None,
    reachable: bool,
) -> None:
    with app.session() as session:
        row = session.scalar(
            select(ChatIdentity).where(
                col(ChatIdentity.platform) == platform, col(ChatIdentity.email) == email
            )
        )
        if row is None:
            row = ChatIdentity(platform=platform, email=email, updated_at=app.now())
            session.add(row)
        changed = (row.platform_user_id, row.tenant_id, row.reachable) != (
            user_id,
            tenant_id,
            reachable,
        )
        if detail is not None and detail != row.detail:
            row.detail = dict(detail)
            changed = True
        if changed:
            row.platform_user_id = user_id
            row.tenant_id = tenant_id
            row.reachable = reachable
            row.updated_at = app.now()


def lookup_by_email(app: App, *, platform: str, email: str) -> Account | None:
    """What is known of a person's account on a platform, by their email."""
    with app.session() as session:
        return _account(
            session.scalar(
                select(ChatIdentity).where(
                    col(ChatIdentity.platform) == platform,
                    col(ChatIdentity.email) == email.lower(),
                )
            )
        )


def lookup_by_user(app: App, *, platform: str, user_id: str) -> Account | None:
    """What is known of a platform account, by the platform's own user id."""
    with app.session() as session:
        return _account(
            session.scalar(
                select(ChatIdentity).where(
                    col(ChatIdentity.platform) == platform,
                    col(ChatIdentity.platform_user_id) == user_id,
                )
            )
        )


def _account(row: ChatIdentity | None) -> Account | None:
    if row is None:
        return None
    return Account(
        platform=row.platform,
        email=row.email,
        user_id=row.platform_user_id,
        tenant_id=row.tenant_id,
        detail=dict(row.detail or {}),
        reachable=row.reachable,
    )
