"""Floating-point add-and-round core: code_out = round_RNE(acc + operand), exactly, one rounding.

This is the datapath of the FP8-vs-INT8 paper's Fig. 2b (van Baalen et al., arXiv:2303.17951):
exponent compare, swap, align the smaller operand with guard/round/sticky, add/subtract,
leading-zero detection, normalise, round to nearest even with carry-out, pack. At every step it takes
the smallest-gate-count choice (one shared adder, a plain leading-zero counter after the add, no
leading-zero anticipator, no near/far split), because `rtl/synth.py` costs it.

Contract (docs/DESIGN.md, "Accumulators" and "RTL product port"):
    acc      a code of the IEEE-style float format F (signed, subnormals, inf/NaN at the all-ones
             exponent; FP16, BF16, FP32 or any user eXmY), value A.
    product  an exact value P = (-1)^sign * sig * 2^exp with nan/inf/zero flags, widths given by an
             `rtl.config.ProductShape` (sig may be unnormalised and wide: a 2p-bit significand
             product, a Kulisch sum of 50-80 bits, an adder-tree sum).
    result   round_F(A + P) with ties to even, computed from the exact sum (one rounding):
             subnormal results kept (no flush), overflow after rounding -> +-inf; a tiny nonzero
             sum that rounds to zero keeps its sign. NaN if either is NaN or +inf + -inf; +-inf if
             one is inf. Zero signs: an exact zero sum of nonzero values is +0; A + (+-0) = A
             except (-0) + (-0) = -0 and (-0) + (+0) = +0. The NaN produced is the positive quiet
             NaN (exponent all ones, mantissa MSB set); benches compare NaN by class.

Why the result is exact with only two guard bits and one sticky bit: the operand is first
normalised (leading one at the top of its field) and the accumulator is normal or sits at the
bottom of F's range, so when the smaller operand loses bits to the sticky (alignment distance
d > 2) it is below half the larger one; the sum then has its leading one at most one place below the
larger operand's, and the rounding position stays at least one place above the sticky bit. Where
both have the same width frame N = max(sig_width, p_F), a shift of d <= 2 loses no bit at all.

The mutant `fpacc_rtz` (rtl.config.MUTANTS) truncates instead of rounding to nearest even; it
exists only so that a test can show the benches catch a wrong rounding.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import FloatFormat, NanEncoding
from rtl.mul import product_signature

# Guard bits kept below the larger operand's LSB before the sticky bit (see the module docstring:
# with a normalised larger operand, two suffice for an exact RNE decision).
GUARD_BITS = 2
MUTANTS = (None, "fpacc_rtz")

# Places, in datapath order, where FpAddRound(cuts=...) can put a register inside the add-and-round
# (C-slow pipelining of an accumulator loop: rtl/loopacc.py). "addmid" splits the main adder's carry
# chain in the middle; every value alive at a cut is registered there.
CUTS = ("swap", "align", "addmid", "add", "abs", "norm", "round")


def _signed_bits(lo: int, hi: int) -> int:
    """Fewest two's-complement bits holding every integer in [lo, hi]."""
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1):
        w += 1
    return w


def check_acc_format(fmt) -> FloatFormat:
    """Raise UnsupportedConfig unless `fmt` is a float format the RTL can accumulate into."""
    if (not isinstance(fmt, FloatFormat) or not fmt.signed or fmt.nan is not NanEncoding.IEEE
            or not fmt.subnormals or fmt.man_bits < 1):
        raise UnsupportedConfig(
            f"a float accumulator must be a signed IEEE-style float with inf/NaN, subnormals and at "
            f"least one mantissa bit (fp16, bf16, fp32, eXmY), not {getattr(fmt, 'name', fmt)!r}")
    return fmt


def leading_zeros(x) -> tuple:
    """(count, all_zero) of a Value as a balanced tree (log2 levels of 2:1 muxes).

    `count` is meaningful only when `all_zero` is 0. The input is padded at the bottom to a power of
    two, which leaves the count of a nonzero value unchanged.
    """
    n = len(x)
    levels = max(1, (n - 1).bit_length())
    padded = Cat(Const(0, (1 << levels) - n), x)

    def rec(v, width):
        if width == 2:   # base case of two bits (a zero-width count would lint as [-1:0])
            return ~v[1], ~(v[0] | v[1])
        half = width // 2
        c_hi, z_hi = rec(v[half:], half)
        c_lo, z_lo = rec(v[:half], half)
        # zero upper half: count = half + count(lower); the MSB of the count is the `z_hi` bit
        count = Cat(Mux(z_hi, c_lo, c_hi), z_hi)
        return count, z_hi & z_lo

    return rec(padded, 1 << levels)


class FpAddRound(wiring.Component):
    """Combinational result = round_RNE_F(acc + product); see the module docstring for the contract.

    Parameters: acc_fmt (IEEE-style FloatFormat F), shape (rtl.config.ProductShape of the operand),
    mutant (None or "fpacc_rtz"), acc_zero (the `acc` input is ignored and taken as +0: a Kulisch
    read-out rounding a fixed-point sum; the operand pre-normalisation is then left out, because it
    only matters when a nonzero accumulator cancels against an unnormalised operand).
    cuts: names of CUTS where a register is placed (default none: combinational). With cuts the
    result shows len(cuts) clock edges after its inputs, every stage holding a different addition
    (the registers have no reset and no enable: a C-slow accumulator loop, rtl/loopacc.py).
    operand_reg: a register after the operand's normalisation, before the accumulator is read
    (feed-forward: the product is taken one edge before the accumulator it is added to).
    Ports: acc In(F.bits), product In(rtl.mul.product_signature(shape)) (connect a Multiplier's
    `p` with wiring.connect), result Out(F.bits).
    """

    def _cut(self, m, name, *values):
        """The values unchanged, or (cut `name` enabled) each through a register of its shape."""
        if name not in self.cuts:
            return values
        out = []
        for i, v in enumerate(values):
            if isinstance(v, tuple):
                out.append(self._cut(m, name, *v))
                continue
            r = Signal(Value.cast(v).shape(), name=f"cut_{name}_{i}", reset_less=True)
            m.d.sync += r.eq(v)
            out.append(r)
        return tuple(out)


    def __init__(self, acc_fmt: FloatFormat, shape, mutant: str | None = None,
                 acc_zero: bool = False, cuts: tuple = (), operand_reg: bool = False):
        self._MustUse__silence = True   # a rejected config is not an unused design
        self.fmt = check_acc_format(acc_fmt)
        if mutant not in MUTANTS:
            raise UnsupportedConfig(f"FpAddRound mutant must be one of {MUTANTS}, not {mutant!r}")
        self._MustUse__silence = False
        self.shape = shape
        self.mutant = mutant
        self.acc_zero = bool(acc_zero)
        cuts = tuple(cuts)
        if any(c not in CUTS for c in cuts) or len(set(cuts)) != len(cuts):
            self._MustUse__silence = True
            raise UnsupportedConfig(f"FpAddRound cuts must be distinct names of {CUTS}, not {cuts!r}")
        self.cuts = cuts
        self.operand_reg = bool(operand_reg)
        super().__init__({
            "acc": In(acc_fmt.bits),
            "product": In(product_signature(shape)),   # flipped: members are inputs
            "result": Out(acc_fmt.bits),
        })

    def elaborate(self, platform):
        m = Module()
        F, shape = self.fmt, self.shape
        E, M, P = F.exp_bits, F.man_bits, F.precision
        W = shape.sig_width
        G = GUARD_BITS
        # Common frame: both significands left-justified in N bits, so the alignment of equal
        # widths never drops a bit for d <= G (module docstring).
        N = max(W, P)
        # Sum window: N bits of the larger operand, G guard bits, 1 sticky bit, 1 carry bit on top.
        Wm = N + G + 2
        # Exponents: T = exponent just above a significand frame's MSB. Operand: exp + W - lz in
        # [exp_min + 1, exp_max + W]; accumulator: [emin + 1, emax + 1]; the result exponent adds a
        # rounding carry; the normalise distance subtracts at most Wm. Margin of 2 for the sums.
        lo = min(shape.exp_min + 1, F.emin) - Wm - 2
        hi = max(shape.exp_max + W, F.emax + 1) + Wm + 2 + F.bias
        X = _signed_bits(lo, hi) + 1

        acc, prod = (Const(0, F.bits) if self.acc_zero else self.acc), self.product

        # -- unpack the accumulator ------------------------------------------------------------
        a_sign = acc[F.bits - 1]
        a_ef = acc[M:M + E]
        a_man = acc[:M]
        all_ones = (1 << E) - 1
        a_special = a_ef == all_ones
        a_nan = a_special & (a_man != 0)
        a_inf = a_special & (a_man == 0)
        a_sub = a_ef == 0
        a_zero = a_sub & (a_man == 0)
        a_sig = Cat(a_man, ~a_sub)                           # P bits incl. hidden bit
        a_T = Signal(signed(X))
        # T_a = max(ef, 1) - bias + 1: subnormals (and zero) sit at emin
        m.d.comb += a_T.eq(Mux(a_sub, 1, a_ef) - F.bias + 1)

        # -- normalise the operand (leading one to the top of its W bits) ----------------------
        o_zero = Signal()
        o_sig = Signal(W)
        o_T = Signal(signed(X))
        if self.acc_zero:
            # nothing to cancel against: the unnormalised operand is exact through the datapath
            m.d.comb += [o_zero.eq(prod.zero | (prod.sig == 0)), o_sig.eq(prod.sig),
                         o_T.eq(prod.exp + W)]
        else:
            o_lz, o_allzero = leading_zeros(prod.sig)
            m.d.comb += [o_zero.eq(prod.zero | o_allzero), o_sig.eq((prod.sig << o_lz)[:W]),
                         o_T.eq(prod.exp + W - o_lz)]
        o_sign = prod.sign
        p_nan, p_inf = prod.nan, prod.inf
        if self.operand_reg:
            # a feed-forward register: the normalised operand, before the accumulator enters
            r = []
            for i, v in enumerate((o_zero, o_sig, o_T, o_sign, p_nan, p_inf)):
                q = Signal(Value.cast(v).shape(), name=f"operand_{i}", reset_less=True)
                m.d.sync += q.eq(v)
                r.append(q)
            o_zero, o_sig, o_T, o_sign, p_nan, p_inf = r

        # -- exponent compare and swap ---------------------------------------------------------
        diff = Signal(signed(X + 1))
        m.d.comb += diff.eq(a_T - o_T)
        acc_big = ~diff[-1]                                   # T_a >= T_o
        big_sig = Signal(N)
        small_sig = Signal(N)
        a_n = Cat(Const(0, N - P), a_sig)                      # left-justify in the N-bit frame
        o_n = Cat(Const(0, N - W), o_sig)
        m.d.comb += [
            big_sig.eq(Mux(acc_big, a_n, o_n)),
            small_sig.eq(Mux(acc_big, o_n, a_n)),
        ]
        big_T = Signal(signed(X))
        m.d.comb += big_T.eq(Mux(acc_big, a_T, o_T))
        big_sign = Mux(acc_big, a_sign, o_sign)
        # |T_a - T_o| clamped at N + G: every bit of the smaller operand is then in the sticky
        max_d = N + G
        d_w = max_d.bit_length()
        absdiff = Signal(X + 1)
        m.d.comb += absdiff.eq(Mux(acc_big, diff, -diff))
        d = Signal(d_w)
        m.d.comb += d.eq(Mux(absdiff > max_d, max_d, absdiff[:d_w]))
        # what the special-case selection at the end needs (passes every cut)
        sp = (a_nan, p_nan, a_inf, p_inf, a_sign, o_sign, acc, o_zero, a_zero)
        big_sig, small_sig, big_T, big_sign, d, sp = self._cut(
            m, "swap", big_sig, small_sig, big_T, big_sign, d, sp)
        a_nan, p_nan, a_inf, p_inf, a_sign, o_sign, acc, o_zero, a_zero = sp

        # -- align the smaller operand: right shift by d, shifted-out bits OR into the sticky ----
        L = N + G                                             # smaller operand plus guard bits
        small_ext = Cat(Const(0, L), Const(0, G), small_sig)  # 2L bits: low half catches the tail
        shifted = Signal(2 * L)
        m.d.comb += shifted.eq(small_ext >> d)
        sticky = shifted[:L].any()
        small_al = Cat(sticky, shifted[L:])                   # L + 1 bits: sticky at position 0
        big_al = Cat(Const(0, G + 1), big_sig)                # L + 1 bits
        small_al, big_al, big_T, big_sign, sp = self._cut(m, "align", small_al, big_al, big_T,
                                                          big_sign, sp)
        a_nan, p_nan, a_inf, p_inf, a_sign, o_sign, acc, o_zero, a_zero = sp

        # -- add / subtract (one adder) ---------------------------------------------------------
        eff_sub = a_sign ^ o_sign
        total = Signal(signed(L + 3))
        if "addmid" not in self.cuts:
            m.d.comb += total.eq(Mux(eff_sub, big_al - small_al, big_al + small_al))
        else:
            # the same sum as big + (sub ? ~small + 1 : small) in L + 3 bits, carry chain cut in
            # the middle: low half and its carry registered with the operands' high halves
            TW = L + 3
            h = TW // 2
            a_x = Cat(big_al, Const(0, 2))
            b_x = Cat(small_al, Const(0, 2))
            b_x = Mux(eff_sub, ~b_x, b_x)
            lo = Signal(h + 1, name="addmid_lo")
            m.d.comb += lo.eq(a_x[:h] + b_x[:h] + eff_sub)
            lo, a_hi, b_hi, big_T, big_sign, sp = self._cut(m, "addmid", lo, a_x[h:], b_x[h:], big_T,
                                                            big_sign, sp)
            a_nan, p_nan, a_inf, p_inf, a_sign, o_sign, acc, o_zero, a_zero = sp
            m.d.comb += total.eq(Cat(lo[:h], (a_hi + b_hi + lo[h])[:TW - h]))
        total, big_T, big_sign, sp = self._cut(m, "add", total, big_T, big_sign, sp)
        a_nan, p_nan, a_inf, p_inf, a_sign, o_sign, acc, o_zero, a_zero = sp
        neg = total[-1]
        mag = Signal(Wm)                                      # magnitude, carry bit at Wm - 1
        m.d.comb += mag.eq(Mux(neg, -total, total)[:Wm])
        r_sign = big_sign ^ neg
        mag, r_sign, big_T, sp = self._cut(m, "abs", mag, r_sign, big_T, sp)
        a_nan, p_nan, a_inf, p_inf, a_sign, o_sign, acc, o_zero, a_zero = sp

        # -- leading-zero count and normalise ----------------------------------------------------
        # Window bit Wm-1 has exponent big_T; the left shift is limited so that the result
        # exponent never drops below emin (gradual underflow). big_T >= emin + 1 always, because
        # the accumulator's T is at least emin + 1 and big_T is the larger T.
        m_lz, m_allzero = leading_zeros(mag)
        room = Signal(signed(X))
        m.d.comb += room.eq(big_T - F.emin)
        sh_w = (Wm - 1).bit_length()
        sh = Signal(sh_w)
        m.d.comb += sh.eq(Mux(room < m_lz, room[:sh_w], m_lz))
        norm = Signal(Wm)
        m.d.comb += norm.eq((mag << sh)[:Wm])
        r_exp = Signal(signed(X))
        m.d.comb += r_exp.eq(big_T - sh)
        norm, r_exp, r_sign, m_allzero, sp = self._cut(m, "norm", norm, r_exp, r_sign, m_allzero, sp)
        a_nan, p_nan, a_inf, p_inf, a_sign, o_sign, acc, o_zero, a_zero = sp

        # -- round to nearest even (carry-out renormalises) ---------------------------------------
        top = norm[Wm - P:]                                   # P bits: hidden bit + mantissa
        guard = norm[Wm - P - 1]
        rest = norm[:Wm - P - 1].any()
        if self.mutant == "fpacc_rtz":
            inc = Const(0, 1)                                 # mutant: truncate
        else:
            inc = guard & (rest | top[0])
        rounded = Signal(P + 1)
        m.d.comb += rounded.eq(top + inc)
        rounded, r_exp, r_sign, m_allzero, sp = self._cut(m, "round", rounded, r_exp, r_sign,
                                                          m_allzero, sp)
        a_nan, p_nan, a_inf, p_inf, a_sign, o_sign, acc, o_zero, a_zero = sp
        carry = rounded[P]
        sig_f = Signal(P)
        m.d.comb += sig_f.eq(Mux(carry, rounded[1:], rounded[:P]))
        exp_f = Signal(signed(X))
        m.d.comb += exp_f.eq(r_exp + carry)
        hidden = sig_f[P - 1]
        biased = Signal(signed(X))
        m.d.comb += biased.eq(exp_f + F.bias)
        overflow = hidden & (biased >= all_ones)
        ef_out = Mux(hidden, biased[:E], 0)

        # -- specials and zeros -------------------------------------------------------------------
        nan_code = Const(((1 << E) - 1) << M | (1 << (M - 1)), F.bits)
        inf_pos = Const(((1 << E) - 1) << M, F.bits - 1)
        res = self.result
        with m.If(a_nan | p_nan | (a_inf & p_inf & (a_sign != o_sign))):
            m.d.comb += res.eq(nan_code)
        with m.Elif(a_inf):
            m.d.comb += res.eq(acc)
        with m.Elif(p_inf):
            m.d.comb += res.eq(Cat(inf_pos, o_sign))
        with m.Elif(o_zero):
            # A + (+-0) = A; both zeros: -0 only if both are -0
            m.d.comb += res.eq(Mux(a_zero, Cat(Const(0, F.bits - 1), a_sign & o_sign), acc))
        with m.Elif(m_allzero):
            m.d.comb += res.eq(0)                             # exact cancellation: +0
        with m.Elif(overflow):
            m.d.comb += res.eq(Cat(inf_pos, r_sign))
        with m.Else():
            m.d.comb += res.eq(Cat(sig_f[:M], ef_out, r_sign))
        return m
