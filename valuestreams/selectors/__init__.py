"""Reads for value-stream pages and the metric pipeline, split by what they read."""
