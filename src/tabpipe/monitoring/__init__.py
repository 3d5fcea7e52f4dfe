"""Drift monitoring against a bundle's reference profile: ``tabpipe monitor`` and the
serving drift gauges.

* :mod:`.drift` -- the statistics: binning, PSI, KL, KS / chi-square p-values, BH.
* :mod:`.compare` -- one result per feature (and for the predictions), with a severity.
* :mod:`.current_data` -- reading the current data: CSV, Parquet or the prediction log.
* :mod:`.schema_drift` -- missing columns and type changes, reported instead of crashing.
* :mod:`.report` -- ``drift.json``, ``report.md`` and PNG histograms.
* :mod:`.trigger` -- ``on_alert`` and the calendar cadence, under a lock file.
* :mod:`.gauges` -- the Prometheus collector of the online server.
"""

DRIFT_ALERT_EXIT_CODE = 6

SIGNIFICANT_DIGITS = 4


def figure(value: float | None) -> str:
    """A figure as ``tabpipe monitor`` prints it (summary, reasons, report.md): 4 significant
    digits (``0.2835``, ``7.04``, ``1235``), ``n/a`` for none. drift.json keeps full precision."""
    return "n/a" if value is None else f"{value:.{SIGNIFICANT_DIGITS}g}"
