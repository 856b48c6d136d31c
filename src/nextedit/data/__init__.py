"""Data builders: synthetic next-edit examples from git history and PyPI release diffs, dedup, split."""
