"""The DVC pipeline: ``dvc.yaml``'s stages, each ``tabpipe stage <name>`` reading pipeline/config/config.yaml."""
