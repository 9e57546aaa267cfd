"""What every runtime offers: named input tensors in, named output tensors out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy.typing as npt

Array = npt.NDArray[Any]
# name -> one array per input (or output), each with the batch's n rows first.
Tensors = Mapping[str, Array]
Outputs = dict[str, Array]


class Runtime(Protocol):
    """A loaded artifact. It knows nothing of HTTP, JSON or class labels: the signature says
    which of its outputs is the label, the probabilities or the value."""

    # The input tensors the artifact takes by name; empty when it takes any one name (a pickle).
    input_names: list[str]
    output_names: list[str]

    def run(self, inputs: Tensors) -> Outputs:
        """Each input tensor [n, ...] in; each output tensor [n, ...] out, by name."""
        ...
