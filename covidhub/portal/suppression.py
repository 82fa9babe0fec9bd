"""Small-cell suppression: no published figure may point at a person.

Rule (primary suppression): a count from 1 to `SMALL_MAX` (4) is not published; pages and
open data show "<5" (which means 0 to 4). Zero is published unless it has to be withheld to
protect a neighbour, and then it is "<5" too — truthfully, and so that "<5" never tells a
reader that there was at least one.

Rule (complementary suppression): the figures of one day form equations — a district's
figure is the sum of its communes', the province's the sum of its districts'. A hidden cell
that is the only hidden member of such an equation could be worked out by subtraction, so
more cells are withheld (shown as "*") until, in every equation,

- no member is hidden alone, and
- where the parent is published, no hidden small count can be pinned to one value from the
  hidden remainder (e.g. two hidden cells that must be 1 and 1).

A complementary cell is a published zero child (shown "<5"), else the smallest published
child (shown "*", meaning at least 5); when no child qualifies, the parent is withheld
instead (which then protects itself in its own parent's equation). Then an attacker who
combines all equations (interval reasoning: published = known, "<5" = 0..4, "*" = 5 or
more) is run; around any small cell it still pins, more is withheld. The loops only add
hidden cells, so they end.

Metrics that describe the same people are suppressed together (a *family*): new cases and
positive results are often the same number, and the dose metrics add up to one another,
so a cell hidden in one metric of a family is hidden in all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

SMALL_MAX = 4
SMALL = "small"
COMPLEMENTARY = "complementary"

FAMILIES: tuple[tuple[str, ...], ...] = (
    ("cases", "positives"),
    ("doses", "doses_dose1", "doses_full", "doses_booster"),
)


ValueOf = Callable[[str, int], int]


def family_of(metric: str) -> str:
    for family in FAMILIES:
        if metric in family:
            return family[0]
    return metric


def is_small(value: int) -> bool:
    return 1 <= value <= SMALL_MAX


@dataclass(frozen=True)
class Equation:
    """parent = sum(children), for one metric on one day."""

    parent: int
    children: tuple[int, ...]


def _pinned(values: Sequence[int], total: int) -> bool:
    """Whether a hidden small count can be narrowed to one value, given that the hidden
    cells add up to `total` (the published parent minus the published children): to an
    attacker a "<5" cell is 0..4 and a "*" cell is 5 or more."""
    small = [v <= SMALL_MAX for v in values]
    for i, value in enumerate(values):
        if not is_small(value):
            continue
        others_small = sum(1 for j, s in enumerate(small) if s and j != i)
        others_withheld = sum(1 for j, s in enumerate(small) if not s and j != i)
        low = (SMALL_MAX + 1) * others_withheld
        high = INF if others_withheld else SMALL_MAX * others_small
        feasible = sum(1 for x in range(SMALL_MAX + 1) if low <= total - x <= high)
        if feasible <= 1:
            return True
    return False


def suppress_day(
    values: Mapping[tuple[str, int], int],
    equations: Sequence[Equation],
) -> dict[tuple[str, int], str]:
    """The suppression of every (metric, area) cell of one day that must not be published.

    `values` holds the true counts (missing = 0); returns {(metric, area): SMALL or
    COMPLEMENTARY} for the hidden cells (every metric of a hidden family cell is listed).
    """
    metrics = sorted({metric for metric, _area in values})
    families: dict[str, list[str]] = {}
    for metric in metrics:
        families.setdefault(family_of(metric), []).append(metric)
    hidden: set[tuple[str, int]] = set()  # (family, area)
    for (metric, area), value in values.items():
        if is_small(value):
            hidden.add((family_of(metric), area))

    def value_of(metric: str, area: int) -> int:
        return values.get((metric, area), 0)

    parent_of = {child: eq for eq in equations for child in eq.children}
    while True:
        _protect_equations(families, equations, hidden, value_of)
        # The equations one by one are safe; an attacker who combines them (narrowing each
        # hidden cell's possible values through every equation in turn) may still pin a
        # small cell. Withhold more around each such cell until nobody can.
        progress = False
        for family, family_metrics in sorted(families.items()):
            for metric in family_metrics:
                for area in _attack(metric, family, equations, hidden, value_of):
                    pick = _escalate(metric, family, area, parent_of, hidden, value_of)
                    if pick is not None:
                        hidden.add((family, pick))
                        progress = True
        if not progress:
            break
    result: dict[tuple[str, int], str] = {}
    for family, area in hidden:
        for metric in families.get(family, [family]):
            small = value_of(metric, area) <= SMALL_MAX
            result[(metric, area)] = SMALL if small else COMPLEMENTARY
    return result


def _protect_equations(
    families: dict[str, list[str]],
    equations: Sequence[Equation],
    hidden: set[tuple[str, int]],
    value_of: ValueOf,
) -> None:
    changed = True
    while changed:
        changed = False
        for family, family_metrics in sorted(families.items()):
            for equation in equations:
                members = (equation.parent, *equation.children)
                for metric in family_metrics:
                    hidden_members = [a for a in members if (family, a) in hidden]
                    if not hidden_members:
                        continue
                    if _safe(metric, equation, hidden_members, value_of):
                        continue
                    pick = _complement(metric, equation, family, hidden, value_of)
                    if pick is None:
                        continue
                    hidden.add((family, pick))
                    changed = True


def _safe(
    metric: str,
    equation: Equation,
    hidden_members: Sequence[int],
    get: ValueOf,
) -> bool:
    if len(hidden_members) == 1:
        # Alone in its equation: recoverable by subtraction.
        return False
    if equation.parent in hidden_members:
        return True
    hidden_values = [get(metric, a) for a in hidden_members]
    if not any(is_small(v) for v in hidden_values):
        return True
    total = get(metric, equation.parent) - sum(
        get(metric, a) for a in equation.children if a not in hidden_members
    )
    return not _pinned(hidden_values, total)


def _complement(
    metric: str,
    equation: Equation,
    family: str,
    hidden: set[tuple[str, int]],
    get: ValueOf,
) -> int | None:
    candidates = [
        (get(metric, a), a)
        for a in equation.children
        if (family, a) not in hidden and (get(metric, a) == 0 or get(metric, a) > SMALL_MAX)
    ]
    if candidates:
        return min(candidates)[1]
    if (family, equation.parent) not in hidden:
        return equation.parent
    return None


def _escalate(
    metric: str,
    family: str,
    area: int,
    parent_of: Mapping[int, Equation],
    hidden: set[tuple[str, int]],
    get: ValueOf,
) -> int | None:
    """One more cell to withhold near a pinned cell: a published sibling of at least
    SMALL_MAX + 1, else the published parent, else the same one level up."""
    current = area
    while current in parent_of:
        equation = parent_of[current]
        pick = _complement(metric, equation, family, hidden, get)
        if pick is not None:
            return pick
        current = equation.parent
    return None


# Interval arithmetic for the attacker: a domain is a tuple of disjoint closed intervals.
INF = 1 << 60
Domain = tuple[tuple[int, int], ...]


def _norm(intervals: Iterable[tuple[int, int]]) -> Domain:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted((max(0, lo), min(INF, hi)) for lo, hi in intervals):
        if lo > hi:
            continue
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    if len(merged) > 64:  # keep it cheap: a wider domain only weakens the attacker
        merged = [(merged[0][0], merged[-1][1])]
    return tuple(merged)


def _add(a: Domain, b: Domain) -> Domain:
    if len(b) == 1 and b[0][0] == b[0][1]:  # adding a known value: a shift
        shift = b[0][0]
        return tuple((lo + shift, min(INF, hi + shift)) for lo, hi in a)
    if len(a) == 1 and len(b) == 1:
        return ((a[0][0] + b[0][0], min(INF, a[0][1] + b[0][1])),)
    return _norm((x[0] + y[0], min(INF, x[1] + y[1])) for x in a for y in b)


def _sub(a: Domain, b: Domain) -> Domain:
    """{x − y ≥ 0 : x ∈ a, y ∈ b}."""
    return _norm((x[0] - y[1], x[1] - y[0] if x[1] < INF else INF) for x in a for y in b)


def _meet(a: Domain, b: Domain) -> Domain:
    return _norm((max(x[0], y[0]), min(x[1], y[1])) for x in a for y in b)


def _attack(
    metric: str,
    family: str,
    equations: Sequence[Equation],
    hidden: set[tuple[str, int]],
    get: ValueOf,
) -> list[int]:
    """The small cells an attacker pins down by combining the equations: each published
    cell is known, "<5" is 1..4, "*" is 0 or at least 5; narrowing repeats until nothing
    changes."""
    involved = [
        eq for eq in equations if any((family, a) in hidden for a in (eq.parent, *eq.children))
    ]
    if not involved or not any(
        is_small(get(metric, area)) for fam, area in hidden if fam == family
    ):
        return []
    small: Domain = ((0, SMALL_MAX),)
    withheld: Domain = ((SMALL_MAX + 1, INF),)
    domains: dict[int, Domain] = {}

    def domain(area: int) -> Domain:
        if area not in domains:
            if (family, area) not in hidden:
                value = get(metric, area)
                domains[area] = ((value, value),)
            else:
                domains[area] = small if get(metric, area) <= SMALL_MAX else withheld
        return domains[area]

    for _round in range(20):
        changed = False
        for eq in involved:
            kids = [domain(c) for c in eq.children]
            # prefix[i]: the sum of the children before i; suffix[i]: from i on
            prefix: list[Domain] = [((0, 0),)]
            for kid in kids:
                prefix.append(_add(prefix[-1], kid))
            suffix: list[Domain] = [((0, 0),)]
            for kid in reversed(kids):
                suffix.append(_add(suffix[-1], kid))
            suffix.reverse()
            narrowed = _meet(domain(eq.parent), prefix[-1])
            if narrowed != domains[eq.parent] and narrowed:
                domains[eq.parent] = narrowed
                changed = True
            for i, child in enumerate(eq.children):
                if (family, child) not in hidden:
                    continue
                others = _add(prefix[i], suffix[i + 1])
                narrowed = _meet(domains[child], _sub(domains[eq.parent], others))
                if narrowed != domains[child] and narrowed:
                    domains[child] = narrowed
                    changed = True
        if not changed:
            break
    return sorted(
        area
        for area, dom in domains.items()
        if (family, area) in hidden
        and is_small(get(metric, area))
        and len(dom) == 1
        and dom[0][0] == dom[0][1]
    )
