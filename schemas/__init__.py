"""pandera schemas, one per boundary: these are the project's data dictionary."""
