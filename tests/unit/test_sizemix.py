"""The load's size mix: parsing with errors that name the fix, draws by weight,
and the byte budget that bounds a run's volume."""

import random

import pytest

from chaos.sizemix import KIB, MIB, ByteBudget, SizeMix
from kernel.errors import BadInputError


def test_a_mix_parses_and_prints_back():
    mix = SizeMix.parse("small=4KiB:80,medium=1048576:15,large=16MiB-64MiB:5")
    assert [(c.name, c.low, c.high, c.weight) for c in mix.classes] == [
        ("small", 4 * KIB, 4 * KIB, 80),
        ("medium", MIB, MIB, 15),
        ("large", 16 * MIB, 64 * MIB, 5),
    ]
    assert mix.text() == "small=4KiB:80,medium=1MiB:15,large=16MiB-64MiB:5"
    assert SizeMix.parse(mix.text()) == mix
    assert SizeMix.single(4096).text() == "small=4KiB:1"
    assert SizeMix.single(1024).classes[0].name == "small"
    assert SizeMix.single(6 * MIB).classes[0].name == "large"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "names no class"),
        ("tiny=4KiB:1", "'tiny' is no size class; use small, medium, large"),
        ("small=4KiB:1,small=8KiB:1", "small is given twice"),
        ("small=256KiB:1", "small sizes must be 1 to 128KiB"),
        ("medium=64KiB:1", "medium sizes must be 131073 to 5MiB"),
        ("medium=8MiB:1", "medium sizes must be"),
        ("large=5MiB:1", "large sizes must be 5242881"),
        ("large=64MiB-16MiB:1", r"\(low <= high\)"),
        ("small=4KB:1", "must be bytes, optionally with KiB or MiB"),
        ("small=4KiB:0", "weight must be a number > 0"),
        ("small=4KiB:many", "weight must be a number > 0, got 'many'"),
    ],
)
def test_bad_mixes_are_refused_naming_the_fix(text, message):
    with pytest.raises(BadInputError, match=message):
        SizeMix.parse(text, "CHAOSGATE_SIZE_MIX")


def test_draws_follow_the_weights_and_the_ranges():
    mix = SizeMix.parse("small=4KiB:90,large=16MiB-64MiB:10")
    rng = random.Random(7)
    draws = [mix.draw(rng) for _ in range(5000)]
    large = [size for name, size in draws if name == "large"]
    assert 400 < len(large) < 600
    assert min(large) >= 16 * MIB and max(large) <= 64 * MIB and len(set(large)) > 100


def test_the_budget_keeps_the_proportions_and_never_starves_large_objects():
    mix = SizeMix.parse("small=4KiB:83,medium=1MiB:15,large=16MiB:2")
    rates = mix.rates(512 * KIB)
    assert rates["medium"] / rates["large"] == pytest.approx(15 * 1 / (2 * 16))
    assert sum(rates.values()) == pytest.approx(512 * KIB)

    now = [0.0]
    budget = ByteBudget(mix, 512 * KIB, clock=lambda: now[0])
    sent = {"small": 0, "medium": 0, "large": 0}
    rng = random.Random(3)
    for _ in range(12000):  # 40 draws a second for 300 s
        now[0] += 0.025
        name, size = mix.draw(rng)
        if budget.allow(name, size):
            sent[name] += size
    big = sent["medium"] + sent["large"]
    assert big <= 512 * KIB * 300 + 17 * MIB + 1.3 * MIB, "over the budget"
    # Each class gets its share of the budget: medium objects do not starve large ones.
    assert sent["large"] >= 0.8 * rates["large"] * 300, "large uploads starved"
    assert sent["medium"] >= 0.8 * rates["medium"] * 300
    assert budget.allow("small", 4096), "small objects are never held back"


def test_no_budget_lets_everything_through_and_the_bound_says_how_much_a_run_sends():
    mix = SizeMix.parse("small=4KiB:83,medium=1MiB:15,large=16MiB:2")
    assert all(ByteBudget(mix, 0).allow("large", 16 * MIB) for _ in range(100))
    bound = mix.bound_bytes(512 * KIB, 120, 5000)
    saved = 16 * MIB + max(MIB, mix.rates(512 * KIB)["medium"] * 10)  # one object of each, or 10 s of its rate
    assert bound == int(5000 * 4 * KIB + 512 * KIB * 120 + saved)
