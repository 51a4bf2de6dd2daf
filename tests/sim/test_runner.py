"""sim.runner's result handling: a bench that failed, was skipped, ran no test or left an empty
results file must fail its caller, never pass or skip. The XML cases need no simulator; the
`sim` ones run real (tiny) cocotb runs through Verilator."""

from pathlib import Path

import pytest

from hwmodel.errors import ToolFailed
from sim.runner import BenchFailed, _parse_results, run_bench

HERE = Path(__file__).resolve().parent

PASSED = '<testsuites><testsuite name="t" tests="1"><testcase name="ok" /></testsuite></testsuites>'
SKIPPED = ('<testsuites><testsuite name="t" tests="1" skipped="1"><testcase name="sk">'
           '<skipped message="Test was skipped" /></testcase></testsuite></testsuites>')
FAILED = ('<testsuites><testsuite name="t" tests="1"><testcase name="bad">'
          '<failure message="boom">trace</failure></testcase></testsuite></testsuites>')
NONE = '<testsuites><testsuite name="t" tests="0" /></testsuites>'


def test_results_xml_passed_failed_skipped_and_empty(tmp_path):
    cases = {"passed": PASSED, "skipped": SKIPPED, "failed": FAILED, "none": NONE}
    got = {}
    for name, text in cases.items():
        p = tmp_path / f"{name}.xml"
        p.write_text(text)
        got[name] = _parse_results(p)
    assert got["passed"] == (1, [])
    assert got["failed"] == (1, [("bad", "boom\ntrace")])
    n, fails = got["skipped"]
    assert n == 1 and len(fails) == 1 and "checks nothing fails" in fails[0][1]
    assert got["none"] == (0, [])


@pytest.mark.parametrize("text", ["", "<testsuites><testsuite name='t'><testcase"])
def test_empty_or_truncated_results_file_is_a_tool_failure(tmp_path, text):
    p = tmp_path / "results.xml"
    p.write_text(text)
    with pytest.raises(ToolFailed, match="empty or truncated"):
        _parse_results(p)


def test_missing_results_file_is_a_tool_failure(tmp_path):
    with pytest.raises(ToolFailed, match="wrote no results file"):
        _parse_results(tmp_path / "results.xml")


def _small_config():
    from rtl.config import MulConfig
    return MulConfig("float4_e2m1fn")


@pytest.mark.sim
@pytest.mark.parametrize("testcase, match", [
    ("skipped_bench", "checks nothing fails"),
    ("failing_bench", "failed on purpose"),
    ("no_such_bench", "no test ran"),
])
def test_skipped_failed_or_missing_bench_fails_the_caller(testcase, match, monkeypatch):
    # cocotb's runner hands the bench process this process's sys.path as PYTHONPATH
    monkeypatch.syspath_prepend(str(HERE))
    with pytest.raises((BenchFailed, ToolFailed), match=match):
        run_bench(_small_config(), "bench_doubles", testcase=testcase)
