"""Cambridge Technicals entries pipeline: the pure domain logic.

Modules are Prefect-free; `flows/` wraps them as tasks and the `entries` command line calls them
directly.
"""

__version__ = "0.1.0"
