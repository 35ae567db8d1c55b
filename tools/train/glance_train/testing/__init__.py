"""Helpers that make test inputs with the real toolchain."""
