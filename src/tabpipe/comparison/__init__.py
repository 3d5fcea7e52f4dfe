"""``tabpipe compare``: two trained models scored on the same held-out rows, with paired
significance tests (bootstrap CI of the metric difference, McNemar, a t-test across CV
folds); ``tabpipe registry promote --require-significant`` gates an alias move on it."""
