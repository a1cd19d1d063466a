"""`torch.utils.data.dataloader`, where some programs import DataLoader from."""
from . import DataLoader, default_collate, default_convert, get_worker_info  # noqa: F401
