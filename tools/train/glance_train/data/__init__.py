"""Datasets for training: synthetic renders exposed as PyTorch datasets, rendered once and cached."""
