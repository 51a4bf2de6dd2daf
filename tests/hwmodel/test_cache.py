"""The content-hash cache: keys, round trips, atomic writes, corrupt entries, concurrency."""

import json
import multiprocessing as mp
import os

import pytest

from hwmodel.cache import ResultCache, cache_key
from hwmodel.errors import DataError


def test_key_is_sha256_of_length_prefixed_parts():
    assert cache_key("ab", "c") != cache_key("a", "bc")
    assert cache_key("x") == cache_key(b"x")
    assert len(cache_key("x")) == 64 and cache_key("x") != cache_key("y")


def test_miss_then_hit(tmp_path):
    c = ResultCache(tmp_path)
    k = cache_key("design", "script")
    assert c.get(k) is None
    c.put(k, {"area_gates": 719, "cells": {"NAND2": 3}})
    assert c.get(k) == {"area_gates": 719, "cells": {"NAND2": 3}}


def test_corrupt_entry_is_a_miss_and_is_removed(tmp_path):
    c = ResultCache(tmp_path)
    k = cache_key("z")
    p = c.path(k)
    p.parent.mkdir(parents=True)
    p.write_text('{"area": 1')          # what a non-atomic writer killed mid-write would leave
    assert c.get(k) is None
    assert not p.exists()


def test_interrupted_write_leaves_no_entry(tmp_path, monkeypatch):
    c = ResultCache(tmp_path)
    k = cache_key("interrupted")

    def boom(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        c.put(k, {"a": 1})
    monkeypatch.undo()
    assert c.get(k) is None
    assert list(c.path(k).parent.iterdir()) == []     # the temp file was removed too


def test_bad_key_is_a_data_error(tmp_path):
    with pytest.raises(DataError):
        ResultCache(tmp_path).path("../etc/passwd")


def _writer(args):
    root, i = args
    c = ResultCache(root)
    k = cache_key("shared")
    for _ in range(20):
        c.put(k, {"payload": "x" * 20000, "writer": i % 1})   # every writer writes the same value
        v = c.get(k)
        if v is not None and v["payload"] != "x" * 20000:
            return False
    return True


def test_concurrent_writers_never_expose_a_partial_entry(tmp_path):
    with mp.get_context("spawn").Pool(4) as pool:
        assert all(pool.map(_writer, [(str(tmp_path), i) for i in range(8)]))
    assert json.loads(ResultCache(tmp_path).path(cache_key("shared")).read_text())["writer"] == 0
