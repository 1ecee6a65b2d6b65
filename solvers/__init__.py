"""Classical numerical solvers (numpy/scipy/numba), installed as ``sciml.solvers``."""
