"""What every property test shares: reproducible settings and a floor on what it really checked.

Hypothesis draws its examples from a seed. Here the seed is derived from the test's name
(``derandomize``) on every run, CI or not, so a failure in CI fails the same way on a laptop
(decisions.md D19), and ``print_blob`` makes a failure print the ``@reproduce_failure`` line that
replays exactly the failing example. To explore other examples, give pytest a seed of your own:
``pytest --hypothesis-seed=1234`` overrides the derived one, and rerunning with the same number
reproduces what it found (docs/testing.md).

A property test that skips examples it cannot use (an invalid generated query, an empty page)
can be hollowed out unnoticed by a stricter validator: it still passes, having compared nothing.
`Share` counts the examples tried and compared, and fails the test when the compared share falls
under its floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings


def property_settings(max_examples: int, **options: Any) -> settings:
    """No deadline: the test machines are shared, and a slow example is not a failure."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        print_blob=True,
        **options,
    )


def data_set_settings(max_examples: int) -> settings:
    """For a property over whole data sets in a database: each example builds and publishes one,
    so it is slow by design, and the session's fixtures (the database template) serve them all."""
    return property_settings(
        max_examples,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@dataclass
class Share:
    """Examples tried and compared by one property test; `check` runs after the last one."""

    floor: float
    tried: int = 0
    compared: int = 0

    def attempt(self) -> None:
        self.tried += 1

    def success(self) -> None:
        self.compared += 1

    def check(self) -> None:
        assert self.tried > 0, "the property test ran no example"
        share = self.compared / self.tried
        assert share >= self.floor, (
            f"only {self.compared} of {self.tried} examples were compared ({share:.0%}); "
            f"the floor is {self.floor:.0%}: the generator no longer fits what it tests"
        )
