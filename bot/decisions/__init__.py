"""Decisions: one description of a forward plan item, the pure rules that say who must brief
whom by when, and the council's calendar (working days, clear days, bank holidays)."""
