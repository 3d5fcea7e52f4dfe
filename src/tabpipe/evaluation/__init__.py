"""The evaluation suite: metrics by task, threshold analysis, plots, segments, comparisons
with the baseline and the production version, and the offline report.

Training and ``tabpipe eval`` both call :func:`tabpipe.evaluation.suite.evaluate_predictions`.
"""
