"""Views: what people see. Neutral cards and signed buttons, the words on every card, who may
see what (Schedule 12A), status, `/surprises` and the digests."""
