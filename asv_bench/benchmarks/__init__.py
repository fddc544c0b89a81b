"""asv benchmarks for ember: one module per kind of operation.

Each module times ember alone; ``tools/bench_compare.py`` measures the same
cases side by side with NumPy and PyTorch.
"""
