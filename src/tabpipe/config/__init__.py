"""Structured-config schemas for every config group (dataclasses in Hydra's ConfigStore)."""
