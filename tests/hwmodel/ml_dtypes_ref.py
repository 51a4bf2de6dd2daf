"""The ml_dtypes types our cross-checks use, each with the spec of our matching format."""

# ml_dtypes float types of 8 bits or fewer (ml_dtypes is the independent reference).
ML_FLOATS = {
    "float8_e4m3fn": "float8_e4m3fn", "float8_e4m3fnuz": "float8_e4m3fnuz",
    "float8_e5m2": "float8_e5m2", "float8_e5m2fnuz": "float8_e5m2fnuz",
    "float8_e3m4": "float8_e3m4", "float8_e4m3": "fp(e=4,m=3,bias=7,nan=ieee)",
    "float8_e4m3b11fnuz": "fp(e=4,m=3,bias=11,nan=fnuz)",
    "float6_e2m3fn": "float6_e2m3fn", "float6_e3m2fn": "float6_e3m2fn",
    "float4_e2m1fn": "float4_e2m1fn", "float8_e8m0fnu": "float8_e8m0fnu",
}

# Every ml_dtypes type decode is checked against: the small floats, bfloat16 and the small ints.
ML_DTYPES = {**ML_FLOATS, "bfloat16": "bfloat16", "int4": "int4", "uint4": "uint4",
             "int2": "int2", "uint2": "uint2"}
