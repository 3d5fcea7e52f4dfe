"""The natural ranges of config numbers, as :mod:`annotated_types` metadata
(``Annotated[float, Gt(0)]``). OmegaConf ignores the metadata; :mod:`tabpipe.config.ranges`
checks it after composition, so ``model.learning_rate=-1`` fails before anything runs."""

from typing import Annotated

from annotated_types import Ge, Gt, Interval

Positive = Annotated[float, Gt(0)]
NonNegative = Annotated[float, Ge(0)]
AtLeastOne = Annotated[int, Ge(1)]
NonNegativeInt = Annotated[int, Ge(0)]
Fraction = Annotated[float, Interval(gt=0, lt=1)]
Share = Annotated[float, Interval(gt=0, le=1)]
Probability = Annotated[float, Interval(ge=0, le=1)]
