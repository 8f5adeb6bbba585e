"""The `metric/` room.

Imported as `recenter_bench.metric`: pyproject.toml's `[tool.setuptools.package-dir]`
maps this folder, `metric/`, into the one import package, so the module
`recenter_bench.metric.x` is the file `metric/x.py`.
"""
