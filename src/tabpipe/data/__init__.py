"""Ingestion, validation, coercion and splitting of tabular data."""
