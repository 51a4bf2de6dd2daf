"""Liberty libraries and their source table (no Yosys run: fast)."""

import pytest

from hwmodel.errors import DataError
from rtl import synth


def test_committed_libraries_match_the_cell_table():
    texts = synth.builtin_library_texts()
    for name, path in synth.BUILTIN.items():
        assert path.read_text() == texts[name], f"{path} is stale: run write_builtin_libraries()"


def test_cell_table_is_sourced_and_paper_costs_follow_appendix_b():
    t = synth.cell_table().set_index("cell")
    assert t["source"].str.len().min() > 20
    # Appendix B (anchors.md sec. 1): AND2/OR2 1, AO21/OA21 2, MUX2/XOR2 3, flip-flop 2*MUX2 = 6
    for cell, gates in {"AND2": 1, "OR2": 1, "AO21": 2, "OA21": 2, "MUX2": 3, "XOR2": 3, "DFF": 6}.items():
        assert t.loc[cell, "paper_gates"] == gates
    # the gate equivalent is NAND2_X1 (0.798 um2, Nangate 45 nm)
    assert t.loc["NAND2", "area_ge"] == pytest.approx(1.0)
    assert t.loc["AND2", "area_ge"] == pytest.approx(1.064 / 0.798)


def test_resolve_builtin_libraries():
    p = synth.resolve_library("paper")
    assert p.unit == "gates" and p.cell_area["XOR2"] == 3 and p.seq_cells == {"DFF"}
    g = synth.resolve_library("ge")
    assert g.unit == "ge" and "AO21" not in g.cell_area        # Nangate has no AO21
    assert len(p.sha256) == 64 and p.sha256 != g.sha256


def test_missing_liberty(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        synth.resolve_library(tmp_path / "nope.lib")


def test_not_a_liberty_file(tmp_path):
    f = tmp_path / "x.lib"
    f.write_text("hello world\n")
    with pytest.raises(DataError, match="not a Liberty file"):
        synth.resolve_library(f)


def test_liberty_without_buffer_or_ff(tmp_path):
    f = tmp_path / "small.lib"
    f.write_text('library (s) {\n cell (INV) { area : 1; pin (A) { direction : input; }\n'
                 ' pin (Y) { direction : output; function : "!A"; } }\n'
                 ' cell (NAND2) { area : 1; pin (A) { direction : input; } pin (B) { direction : input; }\n'
                 ' pin (Y) { direction : output; function : "!(A&B)"; } }\n}\n')
    with pytest.raises(DataError, match=r"lacks a buffer, a flip-flop"):
        synth.resolve_library(f)


def test_user_library_is_um2(tmp_path):
    f = tmp_path / "pdk.lib"
    f.write_text(synth.BUILTIN["ge"].read_text())
    lib = synth.resolve_library(f)
    assert lib.unit == "um2" and lib.name == "pdk" and lib.cell_delay_fo4 is None
