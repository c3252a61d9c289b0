"""The roles a person holds in the directory (stored as text), apart from the tables so that
reading the directory needs no table model (issue 15: `nosurprises status` start-up)."""

from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    DIRECTOR = "director"
    CHIEF_EXECUTIVE = "chief_executive"
    MONITORING_OFFICER = "monitoring_officer"
    DEMOCRATIC_SERVICES = "democratic_services"
    LEADER = "leader"
    CABINET_MEMBER = "cabinet_member"
    WARD_COUNCILLOR = "ward_councillor"
    SCRUTINY_CHAIR = "scrutiny_chair"
