"""The DVC pipeline: ``dvc.yaml``'s stages, each ``tabpipe stage <name>`` reading params.yaml."""
