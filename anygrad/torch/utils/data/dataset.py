"""`torch.utils.data.dataset`, where some programs import the dataset classes from."""
from . import (  # noqa: F401
    ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split,
)
