"""Worked examples that are also part of the library: the AMD paper's covariance estimation problem, a Gaussian
process on a grid, and eigenvalue problems and an exponential fit with the matrix functions."""
