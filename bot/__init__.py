"""No Surprises: make sure council members are briefed before decisions, never surprised."""
