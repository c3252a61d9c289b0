"""Intake: reading the directory and the forward plan from their sources."""
