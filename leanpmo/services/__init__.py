"""Writes for funding: periods, budgets (optimistic concurrency), guardrails, decisions and reviews.

Every write runs inside `pghistory.context(user=…)` so the audit history names who made it, whichever
path (page, API, import, admin) called it. Services validate (full_clean, field-named
ValidationError) before writing and change nothing when they refuse.
"""
