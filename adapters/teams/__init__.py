"""The Microsoft Teams adapter (botbuilder 4.17.1). Every botbuilder import stays in here."""

from adapters.teams.adapter import TeamsAdapter

__all__ = ["TeamsAdapter"]
