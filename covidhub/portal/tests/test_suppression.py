"""Small cells are suppressed, and suppressed cells cannot be worked out from the others."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from covidhub.portal.suppression import (
    COMPLEMENTARY,
    SMALL,
    SMALL_MAX,
    Equation,
    suppress_day,
)

# province 1 → districts 2, 3; district 2 → communes 4, 5, 6; district 3 → communes 7, 8
TREE = (Equation(1, (2, 3)), Equation(2, (4, 5, 6)), Equation(3, (7, 8)))
COMMUNES = (4, 5, 6, 7, 8)


def values_for(commune_values: dict[int, int], metric: str = "cases") -> dict[tuple[str, int], int]:
    values = {(metric, c): v for c, v in commune_values.items()}
    values[(metric, 2)] = sum(commune_values.get(c, 0) for c in (4, 5, 6))
    values[(metric, 3)] = sum(commune_values.get(c, 0) for c in (7, 8))
    values[(metric, 1)] = values[(metric, 2)] + values[(metric, 3)]
    return values


def test_counts_from_one_to_four_are_suppressed_zero_is_not():
    hidden = suppress_day(values_for({4: 3, 5: 40, 6: 10, 7: 50, 8: 0}), TREE)
    assert hidden[("cases", 4)] == SMALL
    assert ("cases", 8) not in hidden
    assert SMALL_MAX == 4


def test_a_single_small_cell_gets_a_complement_in_its_district():
    hidden = suppress_day(values_for({4: 3, 5: 40, 6: 12, 7: 50, 8: 60}), TREE)
    # 12 is the smallest published commune of district 2 → withheld with the small one
    assert hidden[("cases", 6)] == COMPLEMENTARY
    assert ("cases", 5) not in hidden
    assert ("cases", 2) not in hidden


def test_a_zero_neighbour_is_withheld_as_less_than_five():
    hidden = suppress_day(values_for({4: 3, 5: 40, 6: 0, 7: 50, 8: 60}), TREE)
    assert hidden[("cases", 4)] == SMALL and hidden[("cases", 6)] == SMALL
    assert ("cases", 5) not in hidden


def test_two_small_cells_that_would_be_pinned_get_more_protection():
    # 4 and 4 under a published total: the remainder 8 pins both to 4
    hidden = suppress_day(values_for({4: 4, 5: 4, 6: 30, 7: 50, 8: 60}), TREE)
    assert hidden[("cases", 4)] == SMALL and hidden[("cases", 5)] == SMALL
    assert ("cases", 6) in hidden or ("cases", 2) in hidden


def test_when_no_child_can_protect_the_parent_is_withheld():
    # district 3: communes 2 and 0; nothing ≥ 5 to withhold → district 3 goes, and then
    # a district of the province must go with it
    hidden = suppress_day(values_for({4: 20, 5: 30, 6: 40, 7: 2, 8: 0}), TREE)
    assert hidden[("cases", 7)] == SMALL
    assert hidden[("cases", 3)] == SMALL  # the district total is 2 itself
    assert ("cases", 2) in hidden  # its complement in the province equation


def test_family_metrics_are_hidden_together():
    values = values_for({4: 3, 5: 40, 6: 12, 7: 50, 8: 60}, "positives")
    values.update(values_for({4: 3, 5: 40, 6: 12, 7: 50, 8: 60}, "cases"))
    values.update(values_for({4: 30, 5: 40, 6: 12, 7: 50, 8: 60}, "tests"))
    hidden = suppress_day(values, TREE)
    assert {a for m, a in hidden if m == "cases"} == {a for m, a in hidden if m == "positives"}
    assert not any(k[0] == "tests" for k in hidden)


# An attacker who knows the algorithm: every published value, "<5" means 0..4, "*" means 5
# or more. Generalised arc consistency over the sum equations narrows each hidden
# cell's possible values; no small cell may end with a single possible value.


def attacker_domains(values, hidden, bound):
    domains = {}
    for key, value in values.items():
        if key not in hidden:
            domains[key] = {value}
        elif hidden[key] == SMALL:
            domains[key] = set(range(SMALL_MAX + 1))
        else:
            domains[key] = set(range(SMALL_MAX + 1, bound + 1))
    changed = True
    while changed:
        changed = False
        for eq in TREE:
            members = [("cases", eq.parent)] + [("cases", c) for c in eq.children]
            for i, target in enumerate(members):
                others = [m for j, m in enumerate(members) if j != i]
                # possible sums of the children other than target (parent handled by sign)
                sums = {0}
                parent_others = None
                for member in others:
                    if member == members[0]:
                        parent_others = domains[member]
                        continue
                    sums = {s + v for s in sums for v in domains[member] if s + v <= bound}
                if i == 0:
                    keep = {v for v in domains[target] if v in sums}
                else:
                    keep = {v for v in domains[target] if any(p - v in sums for p in parent_others)}
                if keep != domains[target]:
                    domains[target] = keep
                    changed = True
    return domains


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=14), min_size=5, max_size=5))
def test_no_small_cell_can_be_worked_out(commune_list):
    commune_values = dict(zip(COMMUNES, commune_list, strict=True))
    values = values_for(commune_values)
    hidden = suppress_day(values, TREE)
    bound = values[("cases", 1)] + 10
    domains = attacker_domains(values, hidden, bound)
    for key, how in hidden.items():
        if how == SMALL:
            assert len(domains[key]) > 1, (commune_values, hidden, key, domains[key])
        assert values[key] in domains[key]  # the attacker's reasoning is sound


def test_exhaustive_small_grid():
    for combo in itertools.product((0, 1, 2, 5), repeat=5):
        values = values_for(dict(zip(COMMUNES, combo, strict=True)))
        hidden = suppress_day(values, TREE)
        domains = attacker_domains(values, hidden, values[("cases", 1)] + 10)
        for key in hidden:
            if 1 <= values.get(key, 0) <= SMALL_MAX:
                assert len(domains[key]) > 1, (combo, hidden, key)
