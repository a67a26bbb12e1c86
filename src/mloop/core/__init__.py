"""Core: configuration, errors, identifiers, hashes, clocks and logging. Imports nothing above it."""
