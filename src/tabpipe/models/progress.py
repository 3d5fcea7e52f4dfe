"""A tqdm progress bar over boosting rounds (hidden when stderr is not a terminal)."""

from __future__ import annotations

from tqdm.auto import tqdm


def round_bar(total: int, name: str) -> tqdm:
    return tqdm(total=total, desc=f"{name} rounds", unit="round", disable=None, leave=False)
