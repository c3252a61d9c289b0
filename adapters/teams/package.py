"""The Teams app package: manifest.json and two icons, zipped for the Teams admin centre.

`nosurprises teams-package [--output FILE]` writes it. The icons are drawn here (a white ring
with a tick) and encoded as PNG with zlib and struct, so the package needs nothing installed:
a 192x192 full-colour icon, and a 32x32 outline icon (white on transparent, as Teams requires).
"""

from __future__ import annotations

import io
import json
import math
import struct
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_VERSION = "1.17"
MANIFEST_SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
)
ACCENT = (0x0F, 0x5C, 0x8C)  # a civic blue; the colour icon's background
PLACEHOLDER_SITE = "https://www.your-council.gov.uk/no-surprises"
COMMANDS = (
    ("surprises", "What could still surprise a member in the next 28 days (add: days 14, a ref)"),
    ("surprises mine", "Your own briefings and acknowledgements"),
    ("headsup", "Tell the right people before you say or publish something (headsup help)"),
    ("help", "What you can ask No Surprises"),
)


HOME_TAB = "home"


class PackageError(ValueError):
    """The package cannot be built from these settings."""


@dataclass(frozen=True)
class PackageDetails:
    bot_id: str
    council: str
    version: str = "1.0.0"
    website_url: str = PLACEHOLDER_SITE
    privacy_url: str = ""
    terms_url: str = ""


def manifest(details: PackageDetails) -> dict[str, Any]:
    try:
        uuid.UUID(details.bot_id)
    except ValueError as exc:
        raise PackageError(
            f"the bot's app id {details.bot_id!r} is not a GUID; set TEAMS_APP_ID to the "
            "Application (client) ID of the bot's Azure app registration"
        ) from exc
    for url in (details.website_url, details.privacy_url, details.terms_url):
        if url and not url.startswith("https://"):
            raise PackageError(f"Teams needs https:// addresses: {url}")
    council = details.council[:32] or "Your council"
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": details.version,
        "id": details.bot_id,
        "developer": {
            "name": council,
            "websiteUrl": details.website_url,
            "privacyUrl": details.privacy_url or details.website_url,
            "termsOfUseUrl": details.terms_url or details.website_url,
        },
        "name": {"short": "No Surprises", "full": "No Surprises: member briefings"},
        "description": {
            "short": "Makes sure members are briefed before council decisions.",
            "full": (
                f"No Surprises helps {council} keep the golden rule of member/officer "
                "relations: a cabinet member or ward councillor should never learn of a decision "
                "in their portfolio or ward from a resident, the press or a published agenda. "
                "It reminds lead officers to brief members in good time before forward-plan "
                "decisions, records the briefing and the member's acknowledgement, escalates "
                "to directors when nothing happens, and answers `surprises` with what could "
                "still surprise a member."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": details.bot_id,
                "scopes": ["personal"],
                "isNotificationOnly": False,
                "supportsFiles": False,
                "supportsCalling": False,
                "supportsVideo": False,
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": [
                            {"title": title, "description": text} for title, text in COMMANDS
                        ],
                    }
                ],
            }
        ],
        # The personal tab: the same dashboard as `home`, drawn by the bot as Adaptive Cards.
        "staticTabs": [
            {
                "entityId": HOME_TAB,
                "name": "Home",
                "contentBotId": details.bot_id,
                "scopes": ["personal"],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def build_package(details: PackageDetails) -> bytes:
    """The zip file's bytes: manifest.json, color.png, outline.png at its root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest(details), indent=2) + "\n")
        package.writestr("color.png", colour_icon())
        package.writestr("outline.png", outline_icon())
    return buffer.getvalue()


def write_package(details: PackageDetails, output: Path | str) -> Path:
    path = Path(output)
    path.write_bytes(build_package(details))
    return path


# --- icons --------------------------------------------------------------------------------------


def png(width: int, height: int, rgba: bytearray) -> bytes:
    """An 8-bit RGBA PNG from raw pixels (row-major, 4 bytes a pixel)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    stride = width * 4
    raw = b"".join(b"\x00" + bytes(rgba[y * stride : (y + 1) * stride]) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _segment_distance(px: float, py: float, a: tuple[float, float], b: tuple[float, float]):
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _mark_coverage(size: int) -> list[float]:
    """How much of each pixel the ring-and-tick mark covers (0..1, antialiased)."""
    centre = size / 2
    radius = size * 0.36
    stroke = max(1.6, size * 0.07)
    tick = [
        (size * 0.33, size * 0.52),
        (size * 0.45, size * 0.64),
        (size * 0.68, size * 0.38),
    ]
    coverage = []
    for y in range(size):
        for x in range(size):
            px, py = x + 0.5, y + 0.5
            ring = abs(math.hypot(px - centre, py - centre) - radius) - stroke / 2
            check = (
                min(
                    _segment_distance(px, py, tick[0], tick[1]),
                    _segment_distance(px, py, tick[1], tick[2]),
                )
                - stroke / 2
            )
            coverage.append(max(0.0, min(1.0, 0.5 - min(ring, check))))
    return coverage


def colour_icon(size: int = 192) -> bytes:
    """White mark on the accent colour, edge to edge."""
    pixels = bytearray()
    for alpha in _mark_coverage(size):
        pixels += bytes(round(c + (255 - c) * alpha) for c in ACCENT) + b"\xff"
    return png(size, size, pixels)


def outline_icon(size: int = 32) -> bytes:
    """White mark on transparent."""
    pixels = bytearray()
    for alpha in _mark_coverage(size):
        pixels += b"\xff\xff\xff" + bytes([round(255 * alpha)])
    return png(size, size, pixels)
