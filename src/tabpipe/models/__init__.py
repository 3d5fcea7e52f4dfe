"""Models behind one interface (:class:`tabpipe.models.base.TabularModel`).

Each implementation lives in its own module and imports its library lazily, so
``model=xgb`` never imports torch.
"""
