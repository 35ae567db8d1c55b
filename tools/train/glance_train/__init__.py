"""Glance training toolchain: synthetic data generators and model trainers (DESIGN.md, "The toolchain")."""

__version__ = "0.1.0"
