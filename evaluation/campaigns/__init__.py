"""Campaigns: the unit tree and its import, rater groups, and evaluations created and run in bulk."""
