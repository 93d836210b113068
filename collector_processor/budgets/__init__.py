"""Budgets, alerts and spend metrics: evaluated after each commit, off the writer thread.

- `windows`: calendar windows in the org's time zone (DST-correct).
- `evaluate`: which budgets apply to a call and how much of each is left (the gateway's API).
- `forecast`, `rules`, `runaway`: pure alert rules.
- `evaluator`, `webhooks`, `metrics`, `control`: the running parts the server wires.
"""
