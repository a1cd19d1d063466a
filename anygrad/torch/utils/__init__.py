"""`torch.utils`: `data` (Dataset, TensorDataset, DataLoader, random_split)."""
from . import data  # noqa: F401
