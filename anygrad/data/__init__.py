"""Getting data into anygrad: a DataLoader and a few datasets.

This is an I/O edge: datasets are read into host numpy arrays here, and the loader
moves them once to the backend and device that train on them.
"""
from .datasets import (
    Split, load_diabetes, load_digits, load_mnist, make_product, make_regression,
)
from .loader import DataLoader

__all__ = [
    "DataLoader", "Split", "load_diabetes", "load_digits", "load_mnist", "make_product",
    "make_regression",
]
