"""Training orchestration: ingestion -> split -> features -> model -> evaluation."""
