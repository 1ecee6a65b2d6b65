"""Data sets, installed as ``sciml.datasets``."""
