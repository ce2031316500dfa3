"""Lean PMO records (funding decisions, reviews, signals) arrive with the funding work."""
