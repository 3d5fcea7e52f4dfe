"""Command-line entry points. Nothing here imports an ML library at module level."""
