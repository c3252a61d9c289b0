"""Source-neutral directory records. A forward plan item is a DecisionFacts
(bot.decisions.facts), whatever its source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PersonRecord:
    email: str
    name: str
    roles: tuple[str, ...]
    job_title: str = ""
    directorate: str = ""
    wards: tuple[str, ...] = ()
    manager_email: str = ""
    channels: tuple[str, ...] = ()  # platforms to try, in order; empty: chat first, then email
    language: str = ""  # en or cy; empty: the council's default


@dataclass(frozen=True)
class PortfolioRecord:
    name: str
    holder_email: str
    director_email: str = ""
    aliases: tuple[str, ...] = ()
