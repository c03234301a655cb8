"""How many requests of fuzzed input the property-based tests sent (issue 6: "requests of fuzzed input tried"),
and the kill -9 figures of tests/test_faults.py (cycles survived, ballots lost, codes double-counted).

The fuzz modules (``tests/test_fuzz*.py``) take the ``fuzzed`` fixture and call
``fuzzed("unit import")`` once per request built from hypothesis-generated input.
At the end of the run pytest's terminal summary lists the count per target and
the total (with or without ``-s``), and each test records its own count as the
``fuzzed_requests`` property of its JUnit XML entry.
"""
from __future__ import annotations

from collections import Counter

import pytest

PLUGIN_NAME = "ceping-fuzz-tally"


class FuzzTally:
    """A pytest plugin object holding the counts and printing them in the terminal summary."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def pytest_terminal_summary(self, terminalreporter) -> None:
        """One line per fuzz target, then the total; then the kill -9 figures, if that test ran."""
        if self.counts:
            terminalreporter.write_sep("-", "requests of fuzzed input tried")
            for label, count in sorted(self.counts.items()):
                terminalreporter.write_line(f"{label:<48} {count:>7}")
            terminalreporter.write_line(f"{'total':<48} {sum(self.counts.values()):>7}")
        if self.faults:
            terminalreporter.write_sep("-", "kill -9 during voting")
            for label, count in self.faults.items():
                terminalreporter.write_line(f"{label:<48} {count:>7}")


def _plugin(config) -> FuzzTally:
    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if plugin is None:
        plugin = FuzzTally()
        config.pluginmanager.register(plugin, PLUGIN_NAME)
    return plugin


@pytest.fixture()
def fuzzed(request):
    """``fuzzed(label, n=1)`` counts ``n`` fuzzed requests sent to ``label``."""
    counts = _plugin(request.config).counts
    mine: Counter[str] = Counter()

    def count(label: str, n: int = 1) -> None:
        counts[label] += n
        mine[label] += n

    yield count
    request.node.user_properties.append(("fuzzed_requests", sum(mine.values())))


@pytest.fixture()
def fault_figures(request):
    """``fault_figures(label, n)`` adds ``n`` to a kill -9 figure printed in the terminal summary."""
    faults = _plugin(request.config).faults

    def add(label: str, n: int) -> None:
        faults[label] += n
        request.node.user_properties.append((label, n))

    return add
