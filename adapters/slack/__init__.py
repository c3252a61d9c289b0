"""Slack: slack-bolt's AsyncApp at POST /slack/events (or Socket Mode), cards as Block Kit.

`settings` is the light part the plugin registry loads; `app` (the bolt listeners and the
Web API calls) and `blocks` (Block Kit within Slack's limits) load only when Slack is on.
"""
