"""Demo outcomes for Harbour Bank: `seed` seeds them (seed_outcomes, seed_theme_links) from the data
in `story`, `learning` and `surroundings`."""
