"""rtl.liberty: the one Liberty reader, used by the synthesis flow and the gate-level simulator."""

import pytest

from hwmodel.errors import DataError
from rtl import liberty

LIB = r"""/* a comment */ library (tiny) {
  // line comment
  cell ("NAND2") { area : 1.5;
    pin (A) { direction : input; } pin (B) { direction : "input"; }
    pin (Y) { direction : output; function : "!(A & \
B)"; } }
  cell (DFF) { area : 6; ff (IQ, IQN) { clocked_on : "C"; next_state : "D"; }
    pin (C) { direction : input; clock : true; } pin (D) { direction : input; }
    pin (Q) { direction : output; function : "IQ"; } }
}
"""


def test_reads_areas_pins_functions_and_flops():
    cells = liberty.read_liberty(LIB, "tiny.lib")
    nand, dff = cells["NAND2"], cells["DFF"]
    assert (nand.area, nand.inputs, nand.sequential) == (1.5, ("A", "B"), False)
    assert nand.outputs[0][0] == "Y" and nand.outputs[0][1].replace(" ", "") == "!(A&B)"
    assert dff.sequential and dff.ff[2:4] == ("C", "D") and dff.area == 6


@pytest.mark.parametrize("text, msg", [
    ("hello world\n", "not a Liberty file"),
    ("library (x) { }\n", "at least one cell"),
    ("library (x) { cell (A) { pin (Y) { direction : output; } } }\n", "cell A has no area"),
    ("library (x) { cell (A) { area : big; } }\n", "area must be a number"),
    ("library (x) { cell (A) { area : 1; }\n", "unterminated group"),
])
def test_malformed_liberty_is_one_line_data_error_naming_the_file(text, msg):
    with pytest.raises(DataError, match=msg) as e:
        liberty.read_liberty(text, "bad.lib")
    assert "bad.lib" in str(e.value) and "\n" not in str(e.value)


def test_synthesis_and_simulation_read_libraries_with_the_same_reader():
    from sim import gatelevel
    assert gatelevel.read_liberty is liberty.read_liberty and gatelevel.LibCell is liberty.LibCell
    lib = liberty.resolve_library("ge")
    assert lib.cells == liberty.read_liberty(lib.text, str(lib.path))
    assert lib.cell_area == {n: c.area for n, c in lib.cells.items()}
    assert lib.seq_cells == {"DFF"}
