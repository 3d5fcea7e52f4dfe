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
