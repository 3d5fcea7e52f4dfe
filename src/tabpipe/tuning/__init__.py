"""Hyperparameter sweeps: the Optuna side of ``python train.py -m hparams_search=...``.

The Hydra plugin (``src/hydra_plugins/tabpipe_optuna_sweeper``) is a thin shell; the
search space, the study (storage, resume, recovery), the sweep loop, the records and the
per-trial logger that prunes live here. Only sweeps import these modules.
"""
