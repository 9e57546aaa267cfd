"""Any picture of a digit -> a 28x28 MNIST-style array (guard, paper, ink)."""
