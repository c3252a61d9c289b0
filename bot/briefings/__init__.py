"""Briefings: what can happen to a briefing, and the one place its state is written.

`states` holds the states and the allowed transitions; `actions` the things people do to a
briefing; `reconcile` today's sweep (what the rules require against what the database holds);
`escalate` runs each briefing's ladder one step at a time; `ladder` is the frozen, typed copy
of the escalation steps a briefing keeps.
"""
