"""Teams' settings (the `[teams]` table and TEAMS_* variables), its plugin record and its
`teams-package` command. Light to import: botbuilder loads only when Teams is started."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Settings, SettingsTable
from bot.delivery.ports import AdapterCommand, AdapterPlugin, adapter_settings

if TYPE_CHECKING:
    from adapters.teams.adapter import TeamsAdapter
    from bot.delivery.hub import Hub


@dataclass(frozen=True)
class TeamsSettings:
    enabled: bool = False
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    tenant_id: str = ""
    allow_unauthenticated_local: bool = False


def read_settings(table: SettingsTable) -> TeamsSettings:
    """`[teams]`, overridden by TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_APP_TENANT_ID;
    an app id in the environment turns Teams on."""
    return TeamsSettings(
        enabled=table.get("enabled", bool, False) or bool(table.environ.get("TEAMS_APP_ID")),
        app_id=table.get("app_id", str, "", env="TEAMS_APP_ID"),
        app_password=table.get("app_password", str, "", env="TEAMS_APP_PASSWORD"),
        tenant_id=table.get("tenant_id", str, "", env="TEAMS_APP_TENANT_ID"),
        allow_unauthenticated_local=table.get("allow_unauthenticated_local", bool, False),
    )


def create(hub: Hub, settings: TeamsSettings) -> TeamsAdapter:
    from adapters.teams.adapter import TeamsAdapter

    return TeamsAdapter(hub, settings)


def _package_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", default="no-surprises-teams.zip", help="zip file to write")
    parser.add_argument("--app-version", default="1.0.0", help="the package version (x.y.z)")
    parser.add_argument("--developer", help="publisher name (default: the council's name)")
    parser.add_argument(
        "--website-url", default="https://www.your-council.gov.uk/no-surprises", help="https://…"
    )
    parser.add_argument("--privacy-url", help="https://… (default: the website URL)")
    parser.add_argument("--terms-url", help="https://… (default: the website URL)")


def build_package(args: argparse.Namespace, settings: Settings) -> int:
    """The Teams app package (manifest and icons) for the Teams admin centre."""
    from adapters.teams.package import PackageDetails, PackageError, write_package

    teams: TeamsSettings = adapter_settings(settings, "teams") or TeamsSettings()
    if not teams.app_id:
        print(
            "error: set TEAMS_APP_ID (the bot's Azure app registration id) first",
            file=sys.stderr,
        )
        return 2
    details = PackageDetails(
        bot_id=teams.app_id,
        council=args.developer or settings.council.name,
        version=args.app_version,
        website_url=args.website_url,
        privacy_url=args.privacy_url or "",
        terms_url=args.terms_url or "",
    )
    try:
        path = write_package(details, args.output)
    except PackageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {path}: upload it in the Teams admin centre (Manage apps → Upload).")
    return 0


PLUGIN = AdapterPlugin(
    name="teams",
    read_settings=read_settings,
    create=create,
    commands=(
        AdapterCommand(
            name="teams-package",
            help="build the Teams app package (zip) to upload",
            configure=_package_options,
            run=build_package,
        ),
    ),
)
