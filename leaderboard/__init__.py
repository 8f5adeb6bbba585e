"""The leaderboard Space: ranks the committed submissions per stage from their results.json.

Imported as `recenter_bench.leaderboard`: pyproject.toml's `[tool.setuptools.package-dir]`
maps this folder, `leaderboard/`, into the one import package, so the module
`recenter_bench.leaderboard.x` is the file `leaderboard/x.py`.
"""
