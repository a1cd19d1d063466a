"""`torch.utils.data.dataloader`, where some programs import DataLoader from."""
from . import DataLoader, default_collate  # noqa: F401
