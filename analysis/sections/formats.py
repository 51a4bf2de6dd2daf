"""Report section: the format catalogue (hwmodel.formats), every derived figure computed from the
format objects and every entry citing the document it comes from."""

from __future__ import annotations

from analysis.section import ReportContext, Section, Table


def catalogue_frame():
    """One row per distinct catalogue entry: widths, bias, extremes, special values, source."""
    import pandas as pd
    from hwmodel.formats import CATALOGUE, BlockFormat, FixedFormat, FloatFormat, catalogue_formats

    rows = []
    for f in catalogue_formats():
        aliases = sorted(k for k, v in CATALOGUE.items() if v is f and k != f.name)
        row = {"name": f.name, "aliases": ", ".join(aliases), "kind": f.kind, "bits": f.bits,
               "bits_per_element": float(getattr(f, "bits_per_element", f.bits)),
               "exp_bits": None, "man_bits": None, "bias": None, "max_value": None,
               "min_normal": None, "min_subnormal": None, "specials": "", "source": f.source}
        if isinstance(f, FloatFormat):
            specials = {"ieee": "+-inf, NaN (all-ones exponent)", "fn": "NaN only at the all-ones code(s), no inf",
                        "fnuz": "one NaN at the -0 code, no inf, no -0", "none": "none (all finite)"}
            row.update(exp_bits=f.exp_bits, man_bits=f.man_bits, bias=f.bias, max_value=f.max_normal,
                       min_normal=f.min_normal, min_subnormal=f.min_subnormal if f.subnormals else None,
                       specials=specials[f.nan.value] + ("" if f.subnormals else "; no zero, no subnormals")
                       + ("" if f.signed else "; unsigned"))
        elif isinstance(f, BlockFormat):
            el = f.element
            row.update(exp_bits=getattr(el, "exp_bits", None), man_bits=getattr(el, "man_bits", None),
                       max_value=(el.max_normal if isinstance(el, FloatFormat) else el.max_value),
                       specials=f"{f.block_size} elements of {el.name} share one {f.scale.name} scale")
        else:
            row.update(max_value=f.max_value, specials="none (two's complement)" if f.signed
                       else "none (unsigned)")
            if isinstance(f, FixedFormat):
                row.update(min_subnormal=float(2.0 ** -f.frac_bits))
        rows.append(row)
    df = pd.DataFrame(rows)
    for col in ("exp_bits", "man_bits", "bias"):
        df[col] = df[col].astype("Int64")
    return df


def build(ctx: ReportContext) -> Section:
    df = catalogue_frame()
    return Section(
        key="formats", title="Format catalogue",
        intro=("Every format the tool knows, as `hwdse formats` lists it. Widths, biases and extremes "
               "are derived from each format object (never typed in); `hwdse formats NAME --values "
               "--csv` prints every code's exact value."),
        tables=[Table("Format catalogue (max_value, min_normal, min_subnormal are exact values)", df,
                      "hwmodel.formats catalogue; each row's source column cites its document")])
