"""The leaderboard Space: ranks the committed submissions per stage from their results.json."""
