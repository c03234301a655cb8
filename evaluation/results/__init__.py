"""Results: loading the scoring frames, dashboards, make-up, exports, the JSON API and the box commands."""
