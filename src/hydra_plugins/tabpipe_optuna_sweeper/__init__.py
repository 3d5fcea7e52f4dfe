"""tabpipe's Hydra sweeper on current Optuna: ``override /hydra/sweeper: tabpipe_optuna``.

Hydra imports every module under ``hydra_plugins`` at startup, so these modules import
only Hydra; Optuna and the sweep logic (``tabpipe.tuning``) are imported when a sweep runs.
"""
