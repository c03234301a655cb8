"""Pure computation for Ceping: answer tallies → rates → make-up; figures; exports.

No Flask here (docs/design.md, "Layout"): every public function takes pandas DataFrames and
returns DataFrames, plotly figures, or bytes/str, so views stay thin and tests build
their inputs by hand.
"""

from analysis.scoring import (
    committee_rollup,
    group_rates,
    item_rates,
    item_results,
    unit_results,
    wilson_interval,
)

__all__ = [
    "committee_rollup",
    "group_rates",
    "item_rates",
    "item_results",
    "unit_results",
    "wilson_interval",
]
