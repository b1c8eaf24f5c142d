"""Prefect flows: thin wrappers that order the `entries` package's functions as tasks."""
