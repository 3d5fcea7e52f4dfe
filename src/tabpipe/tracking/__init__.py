"""Experiment tracking: one module per logger backend (csv, W&B, MLflow) behind a
fault-tolerant wrapper, plus the checks on a recorded run (check-run, reproduce).

A logger is any object with ``log_metrics(metrics, step)``, ``log_summary(metrics)`` and
``finalize(status)``; it may also have ``log_config(config)`` (starts the tracked run),
``log_plots(paths)`` and ``log_artifact(path, name, type)``.
"""
