"""ember's ops, grouped by kind; each op is defined once and read by the
Tensor methods, the ``ember.*`` functions and the API docs."""
