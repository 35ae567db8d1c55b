"""Semantic segmentation of the scene camera: a DeepLabv3+-style network with lateral inhibitions (LI-Convs)."""
