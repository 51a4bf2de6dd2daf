"""TOML configs: the examples parse; malformed files and unknown keys give one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.config import IsoAreaConfig, load_config
from hwmodel.errors import DataError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_examples_parse(path):
    cfg = load_config(path)
    assert cfg.seed == 0


def test_example_values():
    cfg = load_config(EXAMPLES / "whatif_e3m4.toml")
    assert cfg.whatif.format == "fp(e=3,m=4,bias=7)" and cfg.whatif.acc == "fp32"
    assert cfg.isoarea.budget_ge == 1e8 and cfg.isoarea.bandwidth_gb_s == 3350.0
    small = load_config(EXAMPLES / "sweep_small.toml")
    assert len(small.sweep.points()) == 4


def _write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text,msg", [
    ("[sweep\nformats = 1", "malformed TOML"),
    ("colour = 3", "unknown key 'colour'; allowed top-level keys: seed, sweep, isoarea, whatif"),
    ("[isoarea]\nbudget = 3", "unknown key 'budget' in [isoarea]; allowed keys: budget_ge, budget_mm2, fo4_ps"),
    ("[sweep]\nformats = ['int8']", "[sweep] must have key 'accumulators'"),
    ("[sweep]\nformats = 'int8'\naccumulators = ['fp32']", "sweep.formats must be a non-empty list of strs, not 'int8'"),
    ("[sweep]\nformats = ['int8']\naccumulators = ['fp32']\npipeline_stages = [1.5]",
     "sweep.pipeline_stages[0] must be an integer, not 1.5"),
    ("[isoarea]\nbudget_ge = 'big'", "isoarea.budget_ge must be a finite number, not 'big'"),
    ("[isoarea]\nbudget_ge = 1\nbudget_mm2 = 2", "must give budget_ge or budget_mm2, not both"),
    ("seed = true", "seed must be an integer, not True"),
    ("whatif = 3", "[whatif] must be a table, not 3"),
])
def test_config_errors(tmp_path, text, msg):
    with pytest.raises(DataError) as e:
        load_config(_write(tmp_path, text))
    assert msg in str(e.value)
    assert "\n" not in str(e.value).strip()


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="config file must exist"):
        load_config(tmp_path / "nope.toml")


def test_mm2_budget_replaces_default_ge(tmp_path):
    cfg = load_config(_write(tmp_path, "[isoarea]\nbudget_mm2 = 5"))
    assert cfg.isoarea.budget_mm2 == 5.0 and cfg.isoarea.budget_ge is None
    assert IsoAreaConfig().budget_ge == 1e8
