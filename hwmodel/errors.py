"""Domain exceptions. The CLI turns any `HwdseError` into a one-line message and exit code 2."""


class HwdseError(Exception):
    """Base of every error the tool reports to a user as a one-line message."""


class FormatError(HwdseError, ValueError):
    """A format spec that is unknown, malformed or describes an impossible format."""


class UnsupportedConfig(HwdseError, ValueError):
    """A design configuration (format x accumulator x unit) that cannot be built or computed."""


class ToolNotFound(HwdseError):
    """An external tool (Yosys, Verilator, a GPU) that a step needs is not available."""


class ToolFailed(HwdseError):
    """An external tool ran but failed, or produced output that is missing or malformed."""


class DataError(HwdseError, ValueError):
    """An input file (CSV, TOML, Liberty) that is missing, malformed or in foreign units."""


class ResultMismatch(HwdseError):
    """A design computed a result that disagrees with the golden model (a gate-level netlist, a
    simulated unit): the design's own failure, kept as its result until --retry-failed."""

    environment = False
