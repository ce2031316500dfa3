"""The steward's twelve detectors (SPEC §6): pure functions from a portfolio's inputs to findings,
one module per concern; `registry` lists them and runs them all (`run_detectors`), `inputs`,
`thresholds`, `findings` and `wording` hold what they take, return and say. No Django in here.
"""
