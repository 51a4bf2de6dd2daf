"""Any rtl config as JSON text and back: the form a config travels in to a cocotb bench (an
environment variable) and into the header of exported Verilog.

Any frozen dataclass config (rtl.config.MulConfig, MacConfig, DotConfig, ArrayConfig, FpAccConfig,
...) round-trips: dataclasses, enums, formats, tuples and plain values are encoded with their
class's module and name, and `config_from_json(config_to_json(c)) == c`.

Public API
    config_to_json(config) -> str
    config_from_json(text) -> config
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json


def _encode(obj):
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        return {"__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {f.name: _encode(getattr(obj, f.name))
                           for f in dataclasses.fields(obj) if f.init}}
    if isinstance(obj, enum.Enum):
        cls = type(obj)
        return {"__enum__": f"{cls.__module__}:{cls.__qualname__}", "value": obj.value}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(x) for x in obj]}
    if isinstance(obj, list):
        return [_encode(x) for x in obj]
    if isinstance(obj, dict):
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"config field of type {type(obj).__name__} cannot be passed to a bench as JSON")


def _resolve(path: str):
    module, _, qual = path.partition(":")
    obj = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


def _decode(obj):
    if isinstance(obj, dict):
        if "__dataclass__" in obj:
            cls = _resolve(obj["__dataclass__"])
            return cls(**{k: _decode(v) for k, v in obj["fields"].items()})
        if "__enum__" in obj:
            return _resolve(obj["__enum__"])(obj["value"])
        if "__tuple__" in obj:
            return tuple(_decode(x) for x in obj["__tuple__"])
        if "__dict__" in obj:
            return {_decode(k): _decode(v) for k, v in obj["__dict__"]}
    if isinstance(obj, list):
        return [_decode(x) for x in obj]
    return obj


def config_to_json(config) -> str:
    """The config as JSON text that `config_from_json` turns back into an equal object."""
    return json.dumps(_encode(config), sort_keys=True)


def config_from_json(text: str):
    return _decode(json.loads(text))
