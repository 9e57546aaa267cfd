"""What every runtime offers: a batch of rows in, one probability per class out."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Batch = npt.NDArray[Any]


class Runtime(Protocol):
    """A loaded classifier."""

    def predict_proba(self, batch: Batch) -> Array:
        """Rows of `n_features` numbers in; rows of class probabilities out."""
        ...
