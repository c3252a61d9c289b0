"""Delivery: the port every chat platform implements, the outbox of messages due, the
deliverer that sends them one at a time, and the hub that redraws every copy of a card."""
