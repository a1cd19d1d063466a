"""`torch.utils.data.dataset`, where some programs import the dataset classes from."""
from . import ConcatDataset, Dataset, Subset, TensorDataset, random_split  # noqa: F401
