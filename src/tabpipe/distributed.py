"""Which process of a distributed (DDP) launch this is: a layer-0 runtime fact that models
(Lightning's metrics journal) and training (who writes the run's records) both ask."""

from __future__ import annotations

import os


def is_rank_zero() -> bool:
    """False inside the extra worker processes of a DDP launch (they write nothing)."""
    return all(os.environ.get(var, "0") == "0" for var in ("LOCAL_RANK", "NODE_RANK"))
