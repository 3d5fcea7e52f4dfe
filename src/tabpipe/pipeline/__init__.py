"""The DVC pipeline: ``dvc.yaml``'s stages, each ``tabpipe stage <name>`` reading
``pipeline/config/config.yaml``, and the files DVC reads (:mod:`.dvc_params`)."""
