"""numba loops on plain arrays; they import nothing of kronbox.

:mod:`~kronbox.kernels.dense` forms Kronecker, box and outer products, diagonals and sums of them as
dense matrices (each operator hands its own pieces over, ``Operator.dense_terms``);
:mod:`~kronbox.kernels.symmetric` tests a matrix for exact symmetry and completes one from a
triangle. The submodules import numba; kronbox imports them only when they are needed.
"""
