"""The console adapter: a real adapter, like Errbot's text backend.

It prints each message with its recipient, and reads commands from standard input until the
end of input, so a whole conversation can be scripted:

    as <email or name>        act as this person
    click <n> [key=value …]   press button n (inputs such as how=call note="by phone")
    /surprises …              ask, as the current person
    /headsup REF press release: …   tell the right people before you say or publish something
    home                      what is waiting on the current person
    now <date-time>           set the clock (council local time), then run the ticks
    tick <duration>           move the clock on (30m, 4h, 2d) and run the ticks on the way
    sweep | deliver           run one tick now
    who                       who you are acting as
    help                      this list
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TextIO

from aiohttp import web

from bot.clock import SettableClock
from bot.delivery.hub import Hub
from bot.delivery.ports import PostedRef, Recipient, SendResult
from bot.i18n.catalogue import language_for
from bot.service import (
    ActionReply,
    Actor,
    button_numbers,
    default_person,
    find_person,
    handle_action,
    handle_command,
    handle_headsup,
    home_cards,
    press_number,
)
from bot.ticks import deliver_tick, sweep_tick
from bot.timeutil import parse_datetime
from bot.views.bilingual import say
from bot.views.cards import RAG_MARK, Button, Card
from bot.views.platform_phrases import (
    CONSOLE_CHOOSE_FIRST,
    CONSOLE_CLOCK,
    CONSOLE_FAILED,
    CONSOLE_GREETING,
    CONSOLE_HELP,
    CONSOLE_HOME,
    CONSOLE_HOW_FAR,
    CONSOLE_NOBODY_MATCHES,
    CONSOLE_NOBODY_YET,
    CONSOLE_NOT_UNDERSTOOD,
    CONSOLE_NOW_YOU_ARE,
    CONSOLE_REAL_CLOCK,
    CONSOLE_REPLY,
    CONSOLE_TO,
    CONSOLE_UPDATED,
    CONSOLE_WHICH_BUTTON,
    CONSOLE_WHO,
    CONSOLE_YOUR_COPY,
)

DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass
class _Pressable:
    payload: str
    label: str
    inputs: tuple[str, ...]
    posted: PostedRef


def render_text(card: Card, numbers: list[int] | None = None) -> str:
    """A card as plain text; buttons are shown with the numbers to `click` (a card's own
    first, then each section's, as `Card.all_buttons` orders them)."""
    mark = RAG_MARK.get(card.rag, "")
    lines = [f"{mark} {card.title}".strip()]
    lines += [f"  {line}" if line else "" for line in card.lines]
    if card.fields:
        lines.append("  " + " · ".join(f"{f.label}: {f.value}" for f in card.fields if f.value))
    if card.footer:
        lines.append(f"  ({card.footer})")
    remaining = iter(numbers or [])
    lines += _button_row(card.buttons, remaining, "  ")
    for section in card.sections:
        lines.append(f"  {RAG_MARK.get(section.rag, '')} {section.title}".rstrip())
        lines += [f"    {line}" if line else "" for line in section.lines]
        shown = [f"{f.label}: {f.value}" for f in section.fields if f.value]
        if shown:
            lines.append("    " + " · ".join(shown))
        lines += _button_row(section.buttons, remaining, "    ")
    return "\n".join(lines)


def _button_row(buttons: tuple[Button, ...], numbers: Iterator[int], indent: str) -> list[str]:
    """One line of numbered buttons (none when there are no numbers to show)."""
    shown = []
    for button, number in zip(buttons, numbers, strict=False):
        needs = [i.name for i in button.inputs]
        hint = f" ({', '.join(needs)}=…)" if needs else ""
        shown.append(f"[{number}] {button.label}{hint}")
    return [indent + "   ".join(shown)] if shown else []


class ConsoleAdapter:
    platform = "console"

    def __init__(
        self, hub: Hub, *, out: TextIO | None = None, read_line: Callable[[], str] | None = None
    ) -> None:
        self.hub = hub
        self.app = hub.app  # the clock and calendar only: people come from bot.service
        self.out = out or sys.stdout
        self.read_line = read_line or sys.stdin.readline
        self.persona: Actor | None = None
        self._buttons: dict[int, _Pressable] = {}
        self._showing = asyncio.Lock()
        self._spare_numbers = itertools.count(9_000_000)  # for a button the core cannot read
        self._messages = itertools.count(1)

    # --- the adapter side: what the core asks of every platform ---------------------------

    # --- lifecycle --------------------------------------------------------------------------

    def mount(self, web_app: web.Application) -> None:
        """The console has no HTTP routes."""

    async def start(self) -> None:
        await self.greet()

    async def stop(self) -> None:
        """Nothing to release: standard input is the process's own."""

    async def send(self, recipient: Recipient, card: Card, *, dedupe_key: str = "") -> SendResult:
        message_id = f"console-{next(self._messages)}"
        posted = PostedRef(self.platform, "dm:" + recipient.email, message_id, recipient.email)
        heading = self._say(CONSOLE_TO, card.language, name=recipient.name, email=recipient.email)
        await self._show(heading, card, posted)
        return SendResult.delivered(self.platform, message_id=message_id, channel=posted.channel)

    async def update(self, posted: PostedRef, card: Card) -> SendResult:
        person = await find_person(self.hub, posted.recipient_email)
        who = person.name if person else posted.recipient_email
        heading = self._say(CONSOLE_UPDATED, card.language, name=who, message=posted.message_id)
        await self._show(heading, card, posted)
        return SendResult.delivered(
            self.platform, message_id=posted.message_id, channel=posted.channel
        )

    async def _show(self, heading: str, card: Card, posted: PostedRef) -> None:
        # One at a time, in the order asked (a FIFO lock), so messages print in sending order.
        async with self._showing:
            await self._show_now(heading, card, posted)

    async def _show_now(self, heading: str, card: Card, posted: PostedRef) -> None:
        # Each button keeps one number however often it is redrawn, and across restarts.
        buttons = card.all_buttons
        found = await button_numbers(self.hub, payloads=[b.payload for b in buttons])
        numbers = []
        for button, number in zip(buttons, found, strict=True):
            number = number or next(self._spare_numbers)
            numbers.append(number)
            self._buttons[number] = _Pressable(
                button.payload, button.label, tuple(i.name for i in button.inputs), posted
            )
        self.print(heading.ljust(72, "─"))
        self.print(render_text(card, numbers))

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def _language(self) -> str:
        own = self.persona.language if self.persona else ""
        return language_for(own, self.app.settings.council.language)

    def _say(self, message: str, language: str = "", /, **values: str) -> str:
        """The console's own words, in `language` (a card's) or the current person's."""
        return say(language or self._language(), lambda tr: tr(message, **values), short=True)

    # --- the console side: a person typing ---------------------------------------------------

    async def greet(self) -> None:
        """Say who you are and what time it is, before the first messages arrive."""
        self.persona = self.persona or await default_person(self.hub)
        self.print(self._say(CONSOLE_GREETING, clock=self._clock_text(), who=self._who()))

    async def run(self, stop: asyncio.Event) -> None:
        """Read commands until the end of input (or until stopped)."""
        if self.persona is None:
            self.persona = await default_person(self.hub)
        while not stop.is_set():
            line = await asyncio.to_thread(self.read_line)
            if line == "":
                break
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            # The console delivers what a command queued itself, in order with its replies:
            # the delivery loop waits until the command is done (and then finds nothing).
            async with self.hub.wakeup.held():
                self.print(f"> {line}")
                try:
                    await self.execute(line)
                except Exception as exc:
                    self.print(self._say(CONSOLE_FAILED, error=str(exc)))
        stop.set()

    def _who(self) -> str:
        if self.persona:
            return f"{self.persona.name} <{self.persona.email}>"
        return self._say(CONSOLE_NOBODY_YET)

    def _clock_text(self) -> str:
        local = self.app.calendar.local(self.app.now())
        return say(
            self._language(),
            lambda tr: tr(CONSOLE_CLOCK, day=tr.long_date(local.date()), time=f"{local:%H:%M}"),
            short=True,
        )

    async def execute(self, line: str) -> None:
        command, _, rest = line.partition(" ")
        command = command.lower()
        if command == "help":
            self.print(say(self._language(), lambda tr: tr(CONSOLE_HELP)))
        elif command == "who":
            self.print(self._say(CONSOLE_WHO, who=self._who(), clock=self._clock_text()))
        elif command == "as":
            await self._switch(rest.strip())
        elif command == "click":
            await self._click(rest)
        elif command.startswith("/surprises") or command == "surprises":
            await self._surprises(line)
        elif command in ("/headsup", "headsup"):
            await self._headsup(line)
        elif command == "home":
            await self._home()
        elif command == "now":
            await self._set_clock(rest.strip())
        elif command == "tick":
            await self._tick(rest.strip())
        elif command == "sweep":
            await sweep_tick(self.hub)
        elif command == "deliver":
            await deliver_tick(self.hub)
        else:
            self.print(self._say(CONSOLE_NOT_UNDERSTOOD))

    async def _switch(self, who: str) -> None:
        person = await find_person(self.hub, who)
        if person is None:
            self.print(self._say(CONSOLE_NOBODY_MATCHES, who=who))
            return
        self.persona = person
        roles = ", ".join(sorted(person.roles))
        self.print(
            self._say(CONSOLE_NOW_YOU_ARE, name=person.name, email=person.email, roles=roles)
        )

    async def _click(self, rest: str) -> None:
        if self.persona is None:
            self.print(self._say(CONSOLE_CHOOSE_FIRST))
            return
        parts = shlex.split(rest)
        inputs = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        number = int(parts[0]) if parts and parts[0].isdigit() else 0
        pressable = self._buttons.get(number)
        if pressable is not None:
            reply: ActionReply | None = await handle_action(
                self.hub,
                payload=pressable.payload,
                actor_email=self.persona.email,
                platform=self.platform,
                inputs=inputs,
                source=pressable.posted,
            )
        else:  # not shown since this console started (a second run on the same database)
            reply = await press_number(
                self.hub,
                number=number,
                actor_email=self.persona.email,
                platform=self.platform,
                inputs=inputs,
            )
        if reply is None:
            self.print(self._say(CONSOLE_WHICH_BUTTON))
            return
        self.print(reply.message)
        if reply.card is not None and reply.changed:
            posted = (
                pressable.posted
                if pressable is not None
                else PostedRef(
                    self.platform, "dm:" + self.persona.email, "reply", self.persona.email
                )
            )
            heading = self._say(CONSOLE_YOUR_COPY, reply.card.language, name=self.persona.name)
            await self._show(heading, reply.card, posted)
            # What the action queued (an acknowledgement request, say) goes out now, as the
            # scheduler's next delivery tick would send it.
            await deliver_tick(self.hub)

    async def _surprises(self, line: str) -> None:
        if self.persona is None:
            self.print(self._say(CONSOLE_CHOOSE_FIRST))
            return
        reply = await handle_command(
            self.hub, text=line, actor_email=self.persona.email, platform=self.platform, direct=True
        )
        for card in reply.cards:
            posted = PostedRef(
                self.platform, "dm:" + self.persona.email, "reply", self.persona.email
            )
            heading = self._say(CONSOLE_REPLY, card.language, name=self.persona.name)
            await self._show(heading, card, posted)

    async def _headsup(self, line: str) -> None:
        if self.persona is None:
            self.print(self._say(CONSOLE_CHOOSE_FIRST))
            return
        reply = await handle_headsup(
            self.hub, text=line, actor_email=self.persona.email, platform=self.platform
        )
        posted = PostedRef(self.platform, "dm:" + self.persona.email, "reply", self.persona.email)
        for card in reply.cards:
            heading = self._say(CONSOLE_REPLY, card.language, name=self.persona.name)
            await self._show(heading, card, posted)
        # The people told see it now, as the scheduler's next delivery tick would send it.
        await deliver_tick(self.hub)

    async def _home(self) -> None:
        if self.persona is None:
            self.print(self._say(CONSOLE_CHOOSE_FIRST))
            return
        for card in await home_cards(self.hub, actor_email=self.persona.email):
            posted = PostedRef(
                self.platform, "dm:" + self.persona.email, "home", self.persona.email
            )
            heading = self._say(CONSOLE_HOME, card.language, name=self.persona.name)
            await self._show(heading, card, posted)

    def _settable(self) -> SettableClock | None:
        clock = self.app.clock
        if not isinstance(clock, SettableClock):
            self.print(self._say(CONSOLE_REAL_CLOCK))
            return None
        return clock

    async def _set_clock(self, text: str) -> None:
        clock = self._settable()
        if clock is None:
            return
        clock.set(parse_datetime(text, self.app.settings.council.timezone))
        self.print(self._clock_text())
        await self._run_ticks()

    async def _tick(self, text: str) -> None:
        clock = self._settable()
        if clock is None:
            return
        match = DURATION.match(text.lower() or "1d")
        if not match:
            self.print(self._say(CONSOLE_HOW_FAR))
            return
        target = clock.now() + timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
        # Stop at each working morning on the way, as the scheduler would have run then.
        calendar = self.app.calendar
        day = calendar.local_date(clock.now())
        while True:
            day = calendar.add_working_days(day, 1)
            morning = calendar.start_of_day(day) + timedelta(minutes=1)
            if morning >= target:
                break
            clock.set(morning)
            self.print(self._clock_text())
            await self._run_ticks()
        clock.set(target)
        self.print(self._clock_text())
        await self._run_ticks()

    async def _run_ticks(self) -> None:
        await sweep_tick(self.hub)
        await deliver_tick(self.hub)
