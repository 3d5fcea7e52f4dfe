"""Metric loggers: each receives per-epoch/per-round metrics and the final summary."""
