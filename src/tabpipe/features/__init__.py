"""Feature transforms, fitted on the train split only."""
