"""Matrix expressions: an immutable, hash-consed DAG of nodes, with shapes checked on construction.

:mod:`~kronbox.amd.expressions.expr` holds the node type :class:`Expr`, its smart constructors and
shape inference; :mod:`~kronbox.amd.expressions.elementwise` the table of elementwise functions
(value and derivative of each); :mod:`~kronbox.amd.expressions.functions` their public
constructors; :mod:`~kronbox.amd.expressions.linear_map` symbolic linear maps (``A ⊗ B``,
``A ⊠ B``, outer products, ...) on row-major ``vec``, the form Jacobians and Hessians take.
Evaluating (``e.eval()``) and printing (``str(e)``) are provided by the layers above through
:mod:`kronbox.services`.
"""
