"""Timing estimate of a mapped netlist: a static longest-path walk, no wires, no slopes.

The path runs register to register, inputs and outputs included: `logic_depth` counts cells,
`delay_fo4` weights each cell with its Logical-Effort delay at fan-out 4 (rtl/lib/cells.csv,
built-in libraries only; None for user libraries) and adds one flip-flop clock-to-Q. An estimate
for ranking designs, not sign-off timing.

Public API
    longest_path(netlist_json, top, lib) -> (logic_depth, delay_fo4 | None)
"""

from __future__ import annotations

from rtl.liberty import Library


def longest_path(netlist: dict, top: str, lib: Library) -> tuple[int, float | None]:
    """Longest path (cells, FO4) from inputs/flip-flop outputs to outputs/flip-flop inputs.

    netlist: Yosys `write_json` of the flattened, mapped design; top: its top module; lib: the
    Library it was mapped to. Returns (logic_depth in cells, delay in FO4 or None when the
    library has no Logical-Effort delays, i.e. a user library)."""
    mod = netlist["modules"][top]
    driver: dict[int, tuple[str, dict]] = {}
    cells = mod["cells"]
    for cname, c in cells.items():
        dirs = c.get("port_directions", {})
        for port, bits in c["connections"].items():
            if dirs.get(port) == "output":
                for b in bits:
                    if isinstance(b, int):
                        driver[b] = (cname, c)
    is_seq = {cname: c["type"] in lib.seq_cells for cname, c in cells.items()}
    depth_memo: dict[str, tuple[int, float]] = {}
    delays = lib.cell_delay_fo4 or {}

    def arrival(cname: str) -> tuple[int, float]:
        # iterative DFS (netlists are deep: recursion would overflow on a 32-bit FP adder)
        stack = [(cname, False)]
        while stack:
            n, done = stack.pop()
            if n in depth_memo:
                continue
            c = cells[n]
            ins = [b for p, bits in c["connections"].items()
                   if c.get("port_directions", {}).get(p) == "input" for b in bits if isinstance(b, int)]
            preds = [driver[b][0] for b in ins if b in driver and not is_seq[driver[b][0]]]
            if not done:
                pending = [p for p in preds if p not in depth_memo]
                if pending:
                    stack.append((n, True))
                    stack.extend((p, False) for p in pending)
                    continue
            best = max((depth_memo[p] for p in preds if p in depth_memo), default=(0, 0.0))
            d = delays.get(c["type"], 0.0)
            depth_memo[n] = (best[0] + 1, best[1] + d)
        return depth_memo[cname]

    worst = (0, 0.0)
    # endpoints: flip-flop data inputs and top-level outputs
    ends = []
    for cname, c in cells.items():
        if is_seq[cname]:
            for p, bits in c["connections"].items():
                if c.get("port_directions", {}).get(p) == "input":
                    ends += [b for b in bits if isinstance(b, int)]
    for pname, p in mod["ports"].items():
        if p["direction"] == "output":
            ends += [b for b in p["bits"] if isinstance(b, int)]
    for b in ends:
        if b in driver and not is_seq[driver[b][0]]:
            a = arrival(driver[b][0])
            if a > worst:
                worst = a
    # a register's clock-to-Q starts each register-to-register path
    dff_d = max((delays.get(cells[n]["type"], 0.0) for n in cells if is_seq[n]), default=0.0)
    delay = (worst[1] + dff_d) if lib.cell_delay_fo4 is not None else None
    return worst[0], delay
