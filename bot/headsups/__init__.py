"""Heads-ups: "no surprises" the other way, when a member or officer is about to say or publish
something, and tells the people who should hear it from them first."""
