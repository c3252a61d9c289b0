"""One status question as every way of answering it takes it (issue 15): whose answer, as at
when, how many days ahead, for which portfolio, read from which session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.views.status import StatusReport, build_status

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.config import Settings
    from bot.decisions.calendar import CouncilCalendar
    from bot.store.directory import Directory


@dataclass(frozen=True, slots=True)
class Question:
    session: Session
    settings: Settings
    calendar: CouncilCalendar
    directory: Directory
    now: datetime
    viewer_email: str
    days: int
    portfolio: str = ""

    def full_status(self, **narrowed: Any) -> StatusReport:
        """The full status for this question, narrowed as `build_status` allows (`refs`,
        `briefing_ids`, `only_mine`)."""
        return build_status(
            session=self.session,
            settings=self.settings,
            calendar=self.calendar,
            directory=self.directory,
            now=self.now,
            viewer_email=self.viewer_email,
            days=self.days,
            portfolio=self.portfolio,
            **narrowed,
        )
