"""`torch.linalg`: anygrad's linalg extension, whose names and meanings PyTorch shares."""
from ..ops.linalg import *  # noqa: F401,F403
from ..ops import linalg as _linalg


def __getattr__(name):
    try:
        return getattr(_linalg, name)
    except AttributeError:
        raise AttributeError(f"anygrad.torch.linalg has no {name!r}: not mapped onto anygrad "
                             "yet") from None
