"""Few large messages: arrays packed into flat buckets, and unpacked again.

One message per parameter would pay the network's latency once per tensor; one flat
buffer per dtype pays it once, and moves at the network's bandwidth. Buckets are capped
(25 MiB by default, as PyTorch's DDP does) so that a huge model does not need a second
copy of all its gradients at once. Packing is one concatenation in the Array API; the
unpacked arrays are reshaped slices (views, where the library has them) of the bucket.
"""
from __future__ import annotations

import math

__all__ = ["Bucket", "ExchangeBuffers", "plan_buckets", "DEFAULT_BUCKET_BYTES"]

DEFAULT_BUCKET_BYTES = 25 * 2**20


class Bucket:
    """Positions (into the caller's list) of arrays that share backend, device and dtype,
    with their shapes and sizes, packed into one flat array."""

    __slots__ = ("backend", "positions", "shapes", "sizes")

    def __init__(self, backend, positions, shapes):
        self.backend = backend
        self.positions = positions
        self.shapes = shapes
        self.sizes = [math.prod(s) for s in shapes]

    def pack(self, arrays, tail=None, into=None):
        """One flat array holding `arrays` (this bucket's, in order) end to end, then the
        1-D array `tail` if given (it rides along in the same message). With `into`, a
        flat array of that length kept from an earlier step, it is written there."""
        xp = self.backend.xp
        flat = [xp.reshape(a, (-1,)) for a in arrays] + ([] if tail is None else [tail])
        if into is None:
            return xp.concat(flat)
        start = 0
        for piece in flat:
            into[start:start + piece.shape[0]] = piece
            start += piece.shape[0]
        return into

    def unpack(self, flat):
        """The arrays back from a flat one, in this bucket's order and shapes (a tail
        packed after them is ignored)."""
        xp = self.backend.xp
        out, start = [], 0
        for shape, size in zip(self.shapes, self.sizes):
            out.append(xp.reshape(flat[start:start + size], shape))
            start += size
        return out


class ExchangeBuffers:
    """Flat arrays kept from step to step, one per bucket, for MPI or NCCL to work in.

    A fresh array every step pays for its memory's first touch again: on 2 cores, with
    the two ways interleaved step by step in one job, all-reducing the 7 MiB of gradients
    of a 784-1024-1024-10 MLP took 10 ms through kept buffers and 12.6 ms through fresh
    ones (medians of 60 steps, three runs alike). Libraries whose arrays cannot be written
    in place (jax) get None and pack into a new array.
    """

    def __init__(self):
        self._kept = {}

    def get(self, key, backend, like, length):
        """The kept flat array of `length` elements like `like` for bucket `key`, made on
        first use (and again if the length changed), or None where it cannot be written."""
        kept = self._kept.get(key)
        if kept is None or kept[0] != length:
            buffer = backend.xp.zeros((length,), dtype=like.dtype, device=backend.device(like))
            writable = (backend.host_view(buffer) is not None
                        or backend.gpu_buffer(buffer) is not None)
            kept = self._kept[key] = (length, buffer if writable else None)
        return kept[1]


def plan_buckets(arrays, backends, max_bytes=DEFAULT_BUCKET_BYTES):
    """Buckets for `arrays` (each owned by the matching entry of `backends`), grouped by
    backend, device and dtype in their first-seen order, each bucket at most `max_bytes`
    (an array bigger than that gets a bucket of its own). Every rank must call this with
    the same shapes and dtypes in the same order, so that the buckets line up."""
    groups = {}
    for i, (a, backend) in enumerate(zip(arrays, backends)):
        key = (backend.name, str(backend.device(a)), str(a.dtype))
        groups.setdefault(key, (backend, []))[1].append(i)
    buckets = []
    for backend, positions in groups.values():
        current, size = [], 0
        for i in positions:
            nbytes = math.prod(arrays[i].shape) * _itemsize(backend.xp, arrays[i].dtype)
            if current and size + nbytes > max_bytes:
                buckets.append(Bucket(backend, current, [tuple(arrays[j].shape) for j in current]))
                current, size = [], 0
            current.append(i)
            size += nbytes
        if current:
            buckets.append(Bucket(backend, current, [tuple(arrays[j].shape) for j in current]))
    return buckets


def _itemsize(xp, dtype):
    if xp.isdtype(dtype, "bool"):
        return 1
    if xp.isdtype(dtype, "complex floating"):
        return 2 * xp.finfo(dtype).bits // 8
    info = xp.finfo if xp.isdtype(dtype, "real floating") else xp.iinfo
    return info(dtype).bits // 8
