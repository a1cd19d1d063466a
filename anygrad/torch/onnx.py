"""`torch.onnx`: importable, so that programs which export only when asked run as they
are; exporting itself is refused. anygrad records no ONNX graph: its graphs are its
own (`ag.compile` programs) and its models' weights load into PyTorch through
`state_dict` (or a `.safetensors` file), from where PyTorch can export them."""


def __getattr__(name):
    raise AttributeError(
        f"anygrad.torch.onnx has no {name!r}: anygrad has no ONNX export; save the "
        "state_dict (e.g. to a .safetensors file), load it into the PyTorch model and "
        "export from PyTorch")
