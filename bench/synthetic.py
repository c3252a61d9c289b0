"""A synthetic council for benchmarks: people.csv, portfolios.csv and forward_plan.csv.

Deterministic: the same arguments (and seed) always write byte-identical files, in the shapes
FORMATS.md describes, so a benchmark also exercises the real CSV importers. The default size is
a large English unitary: 10,000 forward plan items over the next 12 months, 2,000 people and
60 wards.

    python bench/synthetic.py --out /tmp/council            # the default size
    python bench/synthetic.py --out /tmp/small --decisions 500 --people 400 --wards 20

The mix, by default (each a share of the items):

- decision makers: Cabinet 40% (on its Thursday meeting), a cabinet member 35% ("not
  before"), an officer 25%;
- 30% key decisions; 10% exempt (Part or Fully, with Schedule 12A paragraphs); 5% short notice
  (general exception or special urgency); 40% name 1-3 wards, the rest "All Wards";
  3% withdrawn;
- the portfolio by name (80%), by alias (15%) or only by its holder (5%); the lead officer by
  email, or (2%) by name only;
- a few unmatched portfolios and lead officers (0.3% each), as real plans have.

People: a chief executive, a monitoring officer, democratic services, a director per
directorate, heads of service, team managers and officers (each with a manager), three
councillors per ward, the leader and cabinet members holding the portfolios, and scrutiny chairs.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

DOMAIN = "synthetic.example.gov.uk"
START = date(2027, 1, 4)  # a Monday: the first working day of 2027


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(sep))


FIRST_NAMES = _words(
    "Aaron Abigail Adam Aisha Alan Alice Amir Amy Andrew Angela Anna Ben Beth Bilal Carl Carol "
    "Chloe Chris Claire Colin Dan Deborah Dev Diane Ed Eleanor Emma Eric Faisal Fiona Frank "
    "Gail Gareth Grace Hannah Harry Helen Ian Imran Isla Jack Jane Jo Kate Kwame Laura Leon "
    "Lucy Mark Mary Mo Nadia Neil Nina Olu Owen Paula Priya Rachel Raj Rosa Ruth Sam Sarah "
    "Simon Sofia Tom Una Victor Wendy Yusuf Zara"
)
LAST_NAMES = _words(
    "Adams Ahmed Ali Allen Bailey Baker Begum Bell Bennett Brown Campbell Carter Chen Clarke "
    "Cole Cooper Cox Davies Dixon Doyle Edwards Evans Fisher Ford Foster Gill Gray Green Hall "
    "Harris Hughes Hussain Jackson James Jones Kaur Kelly Khan King Knight Lee Lewis Lloyd "
    "Marsh Martin Mason Mills Moore Morgan Murphy Nolan Okafor Osei Owen Patel Price Reid "
    "Roberts Robinson Rose Shah Singh Smith Stone Taylor Thomas Turner Walker Ward Watson White "
    "Wilson Wood Wright Young"
)
WARD_STEMS = _words(
    "Abbey, Ashfield, Bankside, Beacon, Bridgewater, Brookfield, Castle, Chapelgate, Church, "
    "Clifton, Cotton, Dale, Eastfield, Fairfield, Ferry, Forest, Gorse, Grange, Harbour, Heath, "
    "Highfield, Hillside, Holme, Kingsway, Lakeside, Langley, Linden, Manor, Marsh, Meadow, Mill, "
    "Moor, Newlands, Northgate, Oak, Orchard, Park, Priory, Quayside, Riverside, Rowan, "
    "St Anne's, St Mark's, Saltmarsh, Southgate, Spring, Stanley, Station, Thornhill, Tower, "
    "Valley, Victoria, Waterside, Westcliff, Willow, Woodside",
    ",",
)
WARD_SUFFIXES = ("", " North", " South", " East", " West", " Central", " Park", " Village")

DIRECTORATES = ("Place", "People", "Communities", "Resources", "Children's Services", "Economy")
# (portfolio, aliases, directorate or "" for the chief executive's, topics)
PORTFOLIOS = (
    ("Leader and Strategy", ("Leader", "Strategy", "Leader of the Council"), "", "strategy"),
    (
        "Finance and Resources",
        ("Finance", "Resources", "Cabinet Member for Finance and Resources"),
        "Resources",
        "finance",
    ),
    (
        "Regeneration and Planning",
        ("Regeneration", "Planning", "Cabinet Member for Regeneration and Planning"),
        "Economy",
        "regeneration",
    ),
    ("Housing", ("Cabinet Member for Housing",), "Communities", "housing"),
    (
        "Communities and Leisure",
        ("Leisure", "Cabinet Member for Communities and Leisure"),
        "Communities",
        "leisure",
    ),
    (
        "Environment and Transport",
        ("Environment", "Transport", "Cabinet Member for Environment and Transport"),
        "Place",
        "environment",
    ),
    (
        "Adult Social Care and Health",
        ("Adult Social Care", "Health", "Cabinet Member for Adult Social Care and Health"),
        "People",
        "care",
    ),
    (
        "Children and Families",
        ("Children's Services", "Cabinet Member for Children and Families"),
        "Children's Services",
        "children",
    ),
    (
        "Climate and Sustainability",
        ("Climate", "Cabinet Member for Climate and Sustainability"),
        "Place",
        "environment",
    ),
    (
        "Economy and Skills",
        ("Skills", "Cabinet Member for Economy and Skills"),
        "Economy",
        "regeneration",
    ),
    ("Digital and Customer Services", ("Digital",), "Resources", "finance"),
    ("Public Health", ("Cabinet Member for Public Health",), "People", "care"),
)
UNMATCHED_PORTFOLIO = "Corporate Transformation"  # on no portfolio list: the rules flag it
TOPICS = {
    "strategy": ("Corporate Plan refresh", "Devolution deal response", "Partnership agreement"),
    "finance": (
        "Treasury management strategy",
        "Disposal of surplus land",
        "Council tax support scheme",
        "Insurance contract award",
    ),
    "regeneration": (
        "Town centre masterplan",
        "Acquisition of former depot",
        "Local plan consultation",
        "Employment land allocation",
    ),
    "housing": (
        "Housing allocations policy",
        "Temporary accommodation contract",
        "Estate regeneration scheme",
        "Selective licensing designation",
    ),
    "leisure": (
        "Leisure centre refurbishment",
        "Play area improvements",
        "Events programme",
        "Library service review",
    ),
    "environment": (
        "Residents' parking zone",
        "Waste fleet replacement",
        "Highways maintenance programme",
        "Flood defence works",
    ),
    "care": (
        "Home care framework",
        "Care charging policy",
        "Extra care housing scheme",
        "Public health grant allocation",
    ),
    "children": (
        "School place planning",
        "Home-to-school transport contract",
        "Children's centre review",
        "Foster carer allowances",
    ),
}
KEY_REASONS = (
    "Expenditure above £500,000",
    "Significant effect on 2 or more wards",
    "Savings above £500,000",
    "Capital receipt above £500,000",
)


@dataclass
class SyntheticCouncil:
    """Where the files are, and who is who (for benchmarks that act as a person)."""

    directory: Path
    people_csv: Path
    portfolios_csv: Path
    forward_plan_csv: Path
    start: date
    chief_executive: str
    leader: str
    monitoring_officer: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        return self.people_csv, self.portfolios_csv, self.forward_plan_csv


@dataclass
class _Person:
    name: str
    email: str
    roles: list[str]
    job_title: str = ""
    directorate: str = ""
    wards: list[str] = field(default_factory=list)
    manager_email: str = ""


def _names(rng: random.Random, count: int) -> list[str]:
    pairs = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(pairs)
    names = pairs[:count]
    # Beyond every first/last pairing, number the rest (still unique).
    names += [f"{pairs[i % len(pairs)]} {i // len(pairs) + 1}" for i in range(len(names), count)]
    return names


def _ward_names(count: int) -> list[str]:
    names = [stem + suffix for suffix in WARD_SUFFIXES for stem in WARD_STEMS]
    if count > len(names):
        names += [f"Ward {i}" for i in range(len(names) + 1, count + 1)]
    return names[:count]


def _email(name: str) -> str:
    local = ".".join(
        "".join(c for c in part.lower() if c.isalnum()) for part in name.split() if part
    )
    return f"{local}@{DOMAIN}"


def _build_people(
    rng: random.Random, people: int, wards: list[str], portfolios: int
) -> tuple[list[_Person], dict[str, dict[str, list[_Person]]]]:
    """Everyone, and each directorate's staff by tier (for choosing lead officers)."""
    directorates = list(DIRECTORATES[: max(2, min(len(DIRECTORATES), (portfolios + 1) // 2))])
    councillor_count = 3 * len(wards)
    # Chief executive, monitoring officer, democratic services (3), and in each directorate a
    # director, a head of service, a team manager and an officer.
    smallest = councillor_count + 5 + 4 * len(directorates)
    if people < smallest:
        raise ValueError(
            f"{people} people are too few for {len(wards)} wards ({councillor_count} "
            f"councillors) and {len(directorates)} directorates: at least {smallest}"
        )
    if portfolios + 1 > councillor_count:
        raise ValueError("too few councillors to hold the portfolios")
    names = iter(_names(rng, people))
    everyone: list[_Person] = []

    def person(roles: list[str], title: str, directorate: str = "", manager: str = "") -> _Person:
        name = next(names)
        p = _Person(name, _email(name), roles, title, directorate, [], manager)
        everyone.append(p)
        return p

    chief = person(["chief_executive", "officer"], "Chief Executive")
    directors = {
        d: person(["director", "officer"], f"Director of {d}", d, chief.email) for d in directorates
    }
    resources = "Resources" if "Resources" in directors else directorates[0]
    monitoring = person(
        ["monitoring_officer", "officer"],
        "Director of Law and Governance (Monitoring Officer)",
        resources,
        chief.email,
    )
    dem_services = person(
        ["democratic_services", "officer"],
        "Democratic Services Manager",
        resources,
        monitoring.email,
    )
    for _ in range(2):
        person(
            ["democratic_services", "officer"],
            "Democratic Services Officer",
            resources,
            dem_services.email,
        )

    officer_count = people - councillor_count - len(everyone)
    staff: dict[str, dict[str, list[_Person]]] = {
        d: {"managers": [], "officers": []} for d in directorates
    }
    # Heads of service (about 2.5% of staff) report to directors; team managers (10%) to heads;
    # everyone else to a team manager in their directorate.
    heads_total = max(len(directorates), officer_count // 40)
    managers_total = max(heads_total, officer_count // 10)
    heads: dict[str, list[_Person]] = {d: [] for d in directorates}
    for i in range(heads_total):
        d = directorates[i % len(directorates)]
        head = person(["officer"], f"Head of Service {i + 1}", d, directors[d].email)
        heads[d].append(head)
        staff[d]["managers"].append(head)
    team_managers: dict[str, list[_Person]] = {d: [] for d in directorates}
    for i in range(managers_total):
        d = directorates[i % len(directorates)]
        manager = rng.choice(heads[d])
        tm = person(["officer"], "Team Manager", d, manager.email)
        team_managers[d].append(tm)
        staff[d]["managers"].append(tm)
    for i in range(people - councillor_count - len(everyone)):
        # One officer in each directorate first, then anywhere.
        d = directorates[i] if i < len(directorates) else rng.choice(directorates)
        officer = person(
            ["officer"],
            rng.choice(("Project Officer", "Policy Officer", "Senior Officer", "Officer")),
            d,
            rng.choice(team_managers[d]).email,
        )
        staff[d]["officers"].append(officer)

    # Councillors: three per ward. The first holds the leader's portfolio, the next the other
    # portfolios, then one scrutiny chair per eight wards.
    cabinet = portfolios
    scrutiny = max(1, len(wards) // 8)
    order = list(range(councillor_count))
    rng.shuffle(order)
    seats = [wards[i // 3] for i in range(councillor_count)]
    for rank, seat in enumerate(order):
        ward = seats[seat]
        if rank == 0:
            roles, title = ["leader", "cabinet_member", "ward_councillor"], "Leader of the Council"
        elif rank < cabinet:
            roles, title = ["cabinet_member", "ward_councillor"], "Cabinet Member"
        elif rank < cabinet + scrutiny:
            roles, title = ["scrutiny_chair", "ward_councillor"], "Scrutiny Chair"
        else:
            roles, title = ["ward_councillor"], "Councillor"
        name = next(names)
        everyone.append(_Person(f"Cllr {name}", _email(name), roles, title, "", [ward]))
    return everyone, staff


def generate(
    out: Path | str,
    *,
    decisions: int = 10_000,
    people: int = 2_000,
    wards: int = 60,
    portfolios: int = 10,
    seed: int = 2027,
    start: date = START,
) -> SyntheticCouncil:
    """Write the three CSV files into `out` (created if need be) and say where they are."""
    if not 2 <= portfolios <= len(PORTFOLIOS):
        raise ValueError(f"portfolios must be 2 to {len(PORTFOLIOS)}")
    if wards < 3 or decisions < 1:
        raise ValueError("at least 3 wards and 1 decision")
    rng = random.Random(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ward_names = _ward_names(wards)
    everyone, staff = _build_people(rng, people, ward_names, portfolios)
    directorates = list(staff)
    chief = next(p for p in everyone if "chief_executive" in p.roles)
    monitoring = next(p for p in everyone if "monitoring_officer" in p.roles)
    directors = {p.directorate: p for p in everyone if "director" in p.roles}
    cabinet = [p for p in everyone if "cabinet_member" in p.roles]
    leader = next(p for p in cabinet if "leader" in p.roles)
    cabinet.remove(leader)
    cabinet.insert(0, leader)

    # Portfolios: the leader's first, then the others; each to a directorate that exists.
    chosen = PORTFOLIOS[:portfolios]
    portfolio_rows = []
    portfolio_info = []  # (name, aliases, directorate, topic, holder)
    for i, (name, aliases, directorate, topic) in enumerate(chosen):
        if directorate and directorate not in directors:
            directorate = directorates[i % len(directorates)]
        holder = cabinet[i]
        holder.job_title = "Leader of the Council" if i == 0 else f"Cabinet Member for {name}"
        director = directors[directorate].email if directorate else chief.email
        portfolio_rows.append([name, holder.email, director, "; ".join(aliases)])
        portfolio_info.append((name, aliases, directorate or directorates[0], topic, holder))

    people_csv = out / "people.csv"
    with people_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["name", "email", "roles", "job_title", "directorate", "wards", "manager_email"]
        )
        for p in everyone:
            writer.writerow(
                [
                    p.name,
                    p.email,
                    ";".join(p.roles),
                    p.job_title,
                    p.directorate,
                    "; ".join(p.wards),
                    p.manager_email,
                ]
            )
    portfolios_csv = out / "portfolios.csv"
    with portfolios_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["portfolio", "holder_email", "director_email", "aliases"])
        writer.writerows(portfolio_rows)

    forward_plan_csv = out / "forward_plan.csv"
    counts = _write_forward_plan(
        forward_plan_csv, rng, decisions, start, ward_names, portfolio_info, staff
    )
    counts.update(people=len(everyone), wards=wards, portfolios=portfolios)
    return SyntheticCouncil(
        directory=out,
        people_csv=people_csv,
        portfolios_csv=portfolios_csv,
        forward_plan_csv=forward_plan_csv,
        start=start,
        chief_executive=chief.email,
        leader=leader.email,
        monitoring_officer=monitoring.email,
        counts=counts,
    )


FORWARD_PLAN_COLUMNS = (
    "ref",
    "title",
    "summary",
    "decision_maker_type",
    "decision_maker",
    "portfolio",
    "portfolio_holder",
    "lead_officer",
    "lead_officer_email",
    "directorate",
    "decision_due",
    "decision_due_text",
    "meeting_date",
    "key_decision",
    "key_reason",
    "wards_affected",
    "restriction",
    "exempt_paragraphs",
    "first_published",
    "notice_type",
    "consultation",
    "documents",
    "status",
    "call_in_applies",
    "source_url",
)


def _write_forward_plan(
    path: Path,
    rng: random.Random,
    decisions: int,
    start: date,
    wards: list[str],
    portfolios: list[tuple[str, tuple[str, ...], str, str, _Person]],
    staff: dict[str, dict[str, list[_Person]]],
) -> dict[str, int]:
    counts = dict.fromkeys(
        (
            "decisions",
            "key",
            "exempt",
            "short_notice",
            "named_wards",
            "withdrawn",
            "unmatched_portfolio",
            "unmatched_lead_officer",
        ),
        0,
    )
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FORWARD_PLAN_COLUMNS)
        for n in range(1, decisions + 1):
            name, aliases, directorate, topic, holder = rng.choice(portfolios)
            due = start + timedelta(days=rng.randrange(365))
            kind = rng.random()
            if kind < 0.40:
                maker_type, maker = "Cabinet", "Cabinet"
                due += timedelta(days=(3 - due.weekday()) % 7)  # that week's Thursday
                meeting = due.isoformat()
                due_text = f"{due.day} {due:%b %Y} by Cabinet"
            else:
                if due.weekday() >= 5:
                    due += timedelta(days=7 - due.weekday())  # the Monday after
                if kind < 0.75:
                    maker_type, maker = "Cabinet Member", f"Cabinet Member for {name}"
                else:
                    maker_type, maker = "Officer", f"Director of {directorate}"
                meeting = ""
                due_text = f"Not before {due.day} {due:%b %Y} by {maker}"

            portfolio, portfolio_holder = name, holder.name
            roll = rng.random()
            if roll < 0.003:
                portfolio, portfolio_holder = UNMATCHED_PORTFOLIO, ""
                counts["unmatched_portfolio"] += 1
            elif roll < 0.05:
                portfolio = ""  # matched by the holder's name alone
            elif roll < 0.20:
                portfolio = rng.choice(aliases)

            pool = staff[directorate]
            lead = rng.choice(pool["managers"] if rng.random() < 0.6 else pool["officers"])
            lead_name, lead_email = lead.name, lead.email
            roll = rng.random()
            if roll < 0.003:
                lead_name, lead_email = f"Interim Lead {n}", f"interim.lead.{n}@agency.example.com"
                counts["unmatched_lead_officer"] += 1
            elif roll < 0.023:
                lead_email = ""  # matched by name

            key = rng.random() < 0.30
            exempt_roll = rng.random()
            if exempt_roll < 0.06:
                restriction = "Part exempt"
            elif exempt_roll < 0.10:
                restriction = "Fully exempt"
            else:
                restriction = "Open"
            paragraphs = ""
            if restriction != "Open":
                paragraphs = rng.choice(("3", "3", "3", "1", "1;2", "3;5", "4"))
                counts["exempt"] += 1

            notice_roll = rng.random()
            if notice_roll < 0.035:
                notice = "General Exception"
                published = due - timedelta(days=rng.randint(6, 12))
            elif notice_roll < 0.05:
                notice = "Special Urgency"
                published = due - timedelta(days=rng.randint(1, 4))
            else:
                notice = "Forward Plan"
                # Key decisions mostly meet the 28 clear days; about 1 in 50 does not.
                least = 20 if rng.random() < 0.02 else 30
                published = due - timedelta(days=rng.randint(least, 120))
            published = min(published, start)  # nothing is published after the snapshot
            if notice != "Forward Plan":
                counts["short_notice"] += 1

            if rng.random() < 0.40:
                named = rng.sample(wards, rng.randint(1, 3))
                wards_text = "; ".join(named)
                place = named[0]
                counts["named_wards"] += 1
            else:
                wards_text = "All Wards"
                place = "Borough-wide"
            withdrawn = rng.random() < 0.03
            counts["withdrawn"] += withdrawn
            counts["key"] += key
            counts["decisions"] += 1
            subject = rng.choice(TOPICS[topic])
            writer.writerow(
                [
                    f"SYN-{n:05d}",
                    f"{subject} - {place}",
                    f"To approve the {subject.lower()} ({place})",
                    maker_type,
                    maker,
                    portfolio,
                    portfolio_holder,
                    lead_name,
                    lead_email,
                    directorate,
                    due.isoformat(),
                    due_text,
                    meeting,
                    "Y" if key else "N",
                    rng.choice(KEY_REASONS) if key else "",
                    wards_text,
                    restriction,
                    paragraphs,
                    published.isoformat(),
                    notice,
                    "Ward members; residents" if wards_text != "All Wards" else "",
                    "Report" + ("; Exempt appendix" if restriction != "Open" else ""),
                    "Withdrawn" if withdrawn else "For Determination",
                    "N (urgent)" if notice == "Special Urgency" else "Y",
                    f"https://democracy.{DOMAIN}/mgIssueHistoryHome.aspx?IId={100000 + n}",
                ]
            )
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to write the three CSV files into")
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--wards", type=int, default=60)
    parser.add_argument("--portfolios", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--start", type=date.fromisoformat, default=START, help="YYYY-MM-DD")
    args = parser.parse_args(argv)
    try:
        council = generate(
            args.out,
            decisions=args.decisions,
            people=args.people,
            wards=args.wards,
            portfolios=args.portfolios,
            seed=args.seed,
            start=args.start,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in council.paths:
        print(path)
    summary = ", ".join(f"{k} {v}" for k, v in council.counts.items())
    print(f"chief executive {council.chief_executive}; {summary}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
