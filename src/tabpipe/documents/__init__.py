"""The typed documents that cross the layers, in layer 0 so that every layer reads them:
what every versioned document shares (:mod:`.base`), a run's ``metadata.json`` (written by
training into the run directory and the bundle, read by ``check-run``, ``reproduce`` and every
bundle consumer) and the prediction log's lines (written by serving, read by monitoring).

The bundle's other documents (schema, reference profile) live with the exporter that writes
them: :mod:`tabpipe.export.documents`, which re-exports these."""
