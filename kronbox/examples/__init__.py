"""Worked examples that are also part of the library: the AMD paper's covariance estimation problem."""
