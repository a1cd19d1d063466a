"""Checkpoint files a user can trust: no temporary files left behind (also after a
SIGKILL), permissions from the umask, bounded memory while saving, one clear error for
any file that is not a checkpoint (and nothing unpickled), and safetensors."""
from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
from anygrad import serialization


def _state(backend="numpy"):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5, backend=backend), nn.ReLU(), nn.Linear(5, 2, backend=backend))
    return {"model": model.state_dict(), "epoch": 4, "note": "ok"}


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


# ----------------------------------------------------------------- temporary files
@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failure_while_writing_leaves_no_temporary_file(tmp_path, monkeypatch, error):
    path = tmp_path / "ckpt.npz"
    ag.save(_state(), path)
    before = path.read_bytes()
    calls = []
    real = serialization._host

    def failing(tensor):  # the second tensor cannot be read back from the device
        calls.append(tensor)
        if len(calls) == 2:
            raise error
        return real(tensor)

    monkeypatch.setattr(serialization, "_host", failing)
    with pytest.raises(type(error)):
        ag.save(_state(), path)
    assert _names(tmp_path) == ["ckpt.npz"] and path.read_bytes() == before


def test_a_killed_save_is_cleaned_up_by_the_next(tmp_path):
    path = tmp_path / "ckpt.npz"
    code = textwrap.dedent(f"""
        import sys, time
        import anygrad as ag
        from anygrad import serialization
        real = serialization._write_entry
        def slow(archive, name, array):
            real(archive, name, array)
            if name == "t1":
                print("writing", flush=True)
                time.sleep(60)
        serialization._write_entry = slow
        ag.save({{"a": ag.ones(3), "b": ag.ones(4), "c": ag.ones(5)}}, {str(path)!r})
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
        child.stdout.close()
    stale = [n for n in _names(tmp_path) if n.endswith(".anygrad-tmp")]
    assert len(stale) == 1 and stale[0].startswith(".ckpt.npz.")
    with pytest.raises(ag.CheckpointError):  # a half-written file is not a checkpoint
        ag.load(tmp_path / stale[0])
    # Files that are not ours, and temporary files of a live process, stay.
    (tmp_path / ".ckpt.npz.notes").write_text("mine")
    live = tmp_path / f".ckpt.npz.{os.getppid()}-0000.anygrad-tmp"
    live.write_bytes(b"")
    ag.save(_state(), path)
    assert _names(tmp_path) == sorted([".ckpt.npz.notes", live.name, "ckpt.npz"])
    assert ag.load(path)["epoch"] == 4


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_permissions_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        ag.save(_state(), tmp_path / "c.npz")
        ag.save({"w": ag.ones(2)}, tmp_path / "c.safetensors") if _has_safetensors() else None
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "c.npz").st_mode & 0o777 == mode
    if _has_safetensors():
        assert os.stat(tmp_path / "c.safetensors").st_mode & 0o777 == mode


@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict"])
def test_peak_memory_while_saving_stays_near_the_state_size(tmp_path, backend_name):
    rng = np.random.default_rng(0)
    state = {f"layer{i}": ag.tensor(rng.standard_normal((1024, 1024)), dtype="float32",
                                    backend=backend_name) for i in range(8)}
    size = sum(t.numpy().nbytes for t in state.values())  # 32 MiB
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        ag.save(state, tmp_path / "big.npz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    ratio = (peak - base) / size
    print(f"save peak above the state on {backend_name}: {(peak - base) / 2**20:.1f} MiB "
          f"for a {size / 2**20:.0f} MiB state ({ratio:.2f}x)")
    assert ratio < 1.1
    back = ag.load(tmp_path / "big.npz")
    np.testing.assert_array_equal(back["layer7"].numpy(), state["layer7"].numpy())


# ----------------------------------------------------------------- unreadable files
def _assert_refused(path, *fragments):
    with pytest.raises(ag.CheckpointError) as info:
        ag.load(path)
    message = str(info.value)
    assert str(path) in message and "allow_pickle" not in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_truncated_files_are_refused(tmp_path):
    good = tmp_path / "good.npz"
    ag.save(_state(), good)
    data = good.read_bytes()
    for cut in (0, 3, 100, len(data) // 2, len(data) - 30, len(data) - 1):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(data[:cut])
        _assert_refused(path)


def test_corrupted_bytes_are_refused(tmp_path):
    good = tmp_path / "good.npz"
    ag.save(_state(), good)
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("t0.npy")
    # a flipped bit inside the first tensor's data: the CRC catches it
    offset = info.header_offset + 30 + len(info.filename) + info.extra.__len__() + 200
    data[offset] ^= 0x10
    (tmp_path / "bad.npz").write_bytes(bytes(data))
    _assert_refused(tmp_path / "bad.npz", "damaged")


def test_foreign_files_are_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (tmp_path / "p.pkl").write_bytes(pickle.dumps({"w": Payload()}))
    _assert_refused(tmp_path / "p.pkl", "pickle")
    (tmp_path / "random.npz").write_bytes(np.random.default_rng(0).bytes(4096))
    _assert_refused(tmp_path / "random.npz", "does not start like a zip archive")
    (tmp_path / "empty.npz").write_bytes(b"")
    _assert_refused(tmp_path / "empty.npz", "empty")
    np.save(tmp_path / "one.npy", np.ones(3))
    _assert_refused(tmp_path / "one.npy", "single .npy")
    # An archive with our meta entry but an object array inside it.
    good = tmp_path / "good.npz"
    ag.save({"w": ag.ones(2)}, good)
    with zipfile.ZipFile(good) as z:
        meta = z.read("__anygrad__.npy")
    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as z:
        z.writestr("__anygrad__.npy", meta)
        with z.open("t0.npy", "w") as entry:
            np.lib.format.write_array(entry, np.array([Payload()], dtype=object), allow_pickle=True)
    _assert_refused(tmp_path / "evil.npz", "never unpickles")
    # A zip archive like torch.save writes.
    with zipfile.ZipFile(tmp_path / "model.pt", "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"w": Payload()}))
    _assert_refused(tmp_path / "model.pt", "PyTorch .pt file")
    assert not marker.exists()


def test_a_real_torch_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "m.pt")
    _assert_refused(tmp_path / "m.pt", "PyTorch .pt file")
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    _assert_refused(tmp_path / "old.pt", "pickle")


def test_a_missing_tensor_entry_is_refused(tmp_path):
    good = tmp_path / "good.npz"
    ag.save(_state(), good)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tmp_path / "half.npz", "w") as dst:
        for name in src.namelist()[:-1]:
            dst.writestr(name, src.read(name))
    _assert_refused(tmp_path / "half.npz", "missing")


def test_a_missing_file_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        ag.load(tmp_path / "nope.npz")


# ----------------------------------------------------------------- safetensors
def _has_safetensors():
    try:
        import safetensors  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("target", ["numpy", "array_api_strict"])
def test_safetensors_round_trip_with_dotted_keys(tmp_path, backend, target):
    st = pytest.importorskip("safetensors.numpy")
    model = _state(backend)["model"]
    ag.save({"model": model, "extra": {"scale": ag.ones(3, dtype="float64", backend=backend)}},
            tmp_path / "m.safetensors")
    raw = st.load_file(str(tmp_path / "m.safetensors"))
    assert set(raw) == {f"model.{k}" for k in model} | {"extra.scale"}
    back = ag.load(tmp_path / "m.safetensors", backend=target)
    for key, value in model.items():
        assert back[f"model.{key}"].backend.name == target
        assert str(back[f"model.{key}"].numpy().dtype) == "float32"
        np.testing.assert_array_equal(back[f"model.{key}"].numpy(), value.numpy())
    # A flat state dict saved as it is loads straight back into a model.
    ag.save(model, tmp_path / "flat.safetensors")
    twin = nn.Sequential(nn.Linear(6, 5, backend=target), nn.ReLU(), nn.Linear(5, 2, backend=target))
    twin.load_state_dict(ag.load(tmp_path / "flat.safetensors", backend=target))
    np.testing.assert_array_equal(twin[2].bias.numpy(), model["2.bias"].numpy())


def test_safetensors_opens_in_torch(tmp_path):
    pytest.importorskip("safetensors")
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    model = _state()["model"]
    ag.save(model, tmp_path / "m.safetensors")
    twin = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    twin.load_state_dict(load_file(str(tmp_path / "m.safetensors")))
    np.testing.assert_array_equal(twin[0].weight.detach().numpy(), model["0.weight"].numpy())


def test_safetensors_errors(tmp_path):
    pytest.importorskip("safetensors")
    with pytest.raises(TypeError, match="only \\(nested dicts of\\) tensors, but epoch is a int"):
        ag.save({"w": ag.ones(2), "epoch": 3}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="same key 'a.b'"):
        ag.save({"a.b": ag.ones(1), "a": {"b": ag.ones(1)}}, tmp_path / "x.safetensors")
    assert _names(tmp_path) == []
    ag.save({"w": ag.ones(4)}, tmp_path / "x.safetensors")
    data = (tmp_path / "x.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[:-5])
    _assert_refused(tmp_path / "cut.safetensors", "not a valid safetensors file")
    # recognised by its content under another name
    (tmp_path / "weights.bin").write_bytes(data)
    assert ag.load(tmp_path / "weights.bin")["w"].shape == (4,)
