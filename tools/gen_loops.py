#!/usr/bin/env python3
"""Generate ember's elementwise and cast loops from the op table.

Usage: gen_loops.py TEMPLATE.c.in {unary,binary,ternary,cast,fused,cuda,cuda-cast,cuda-index}
       -o OUT.c
       TABLE.toml...

The table (src/ember/ops/elementwise.toml, then activations.toml, read in that
order) lists each op once; the template
stamps one strided loop per op and compute dtype, plus the lookup table the
Cython core reads.  ``fused`` renders the fused-elementwise interpreter (ember.jit's
fusion): one case per floating op whose result has its inputs' dtype.  ``cuda``
renders the CUDA kernels (src/ember/cuda/kernels/elementwise.cu.in) from the same
table: every op, every dtype; ``cuda-cast`` the CUDA copies and casts (copy.cu.in:
``all_dtypes``) with the CPU's conversions, and the other kernel families that take
the real ``dtypes``; ``cuda-index`` the CUDA index kernels (index.cu.in), per real dtype.
"""
import argparse
import tomllib

from Cython import Tempita

# name, storage type, compute type, kind, load/store conversions for 16-bit floats
DTYPES = [
    ("bool", "bool", "bool", "b"),
    ("uint8", "uint8_t", "uint8_t", "u"),
    ("int8", "int8_t", "int8_t", "i"),
    ("int16", "int16_t", "int16_t", "i"),
    ("int32", "int32_t", "int32_t", "i"),
    ("int64", "int64_t", "int64_t", "i"),
    ("float16", "em_half", "float", "f"),
    ("bfloat16", "em_bfloat16", "float", "f"),
    ("float32", "float", "float", "f"),
    ("float64", "double", "double", "f"),
    ("complex64", "em_complex64", "em_complex64", "c"),
    ("complex128", "em_complex128", "em_complex128", "c"),
    ("uint16", "uint16_t", "uint16_t", "u"),
    ("uint32", "uint32_t", "uint32_t", "u"),
    ("uint64", "uint64_t", "uint64_t", "u"),
]
REAL_OF = {"complex64": ("float", "float32"), "complex128": ("double", "float64")}
LOAD = {"float16": "em_half_to_float(%s)", "bfloat16": "em_bfloat16_to_float(%s)"}
STORE = {"float16": "em_float_to_half(%s)", "bfloat16": "em_float_to_bfloat16(%s)"}
TABLE_OF_ARITY = {1: "unary", 2: "binary", 3: "ternary"}


def dtype_dicts():
    return [dict(name=n, storage=st, T=t, kind=k) for n, st, t, k in DTYPES]


def expr_for(op, kind):
    for keys, expr in op["expr"].items():
        if kind in keys:
            return expr
    raise SystemExit(f"op {op['name']!r}: no expression for kind {kind!r}")


def build_op(name, spec):
    op = dict(spec, name=name)
    op.setdefault("out", "same")
    op["condition"] = name == "where"
    op["table"] = TABLE_OF_ARITY[op["arity"]]
    op["promote_flag"] = int(op.get("promote", "none") == "float")
    op["out_flag"] = {"same": "EM_OUT_SAME", "bool": "EM_OUT_BOOL", "real": "EM_OUT_REAL"}[op["out"]]
    op["dtypes"] = []
    op["loop_names"] = {}
    for d in dtype_dicts():
        if d["kind"] not in op["kinds"]:
            op["loop_names"][d["name"]] = "NULL"
            continue
        if op["out"] == "bool":
            out, store = "bool", "(bool)(%s)"
        elif op["out"] == "real" and d["name"] in REAL_OF:
            out, store = REAL_OF[d["name"]][0], "(OT)(%s)"
        else:
            out, store = d["storage"], STORE.get(d["name"], "(OT)(%s)")
        op["dtypes"].append(dict(
            name=d["name"], kind=d["kind"], T=d["T"], out=out, load=LOAD.get(d["name"], "%s"),
            store=store, expr=expr_for(op, d["kind"]),
            **{"in": d["storage"]},
        ))
        op["loop_names"][d["name"]] = f"em_{name}_{d['name']}"
    return op


def fusable(op):
    """Whether the fused interpreter runs ``op``: a floating loop, a result of the
    inputs' dtype, and no use of the loop context (the integer division checks)."""
    if "f" not in op["kinds"] or op["out"] != "same" or op["condition"]:
        return False
    op["fexpr"] = expr_for(op, "f")
    return "ctx" not in op["fexpr"]


def build_cuda_op(name, spec):
    """`build_op` for the CUDA template, with each input's storage type (the condition of
    ``where`` is bool; missing inputs are ``em_unused``) and the vector width of the
    contiguous path (16-byte loads of the widest operand).  The complex expressions are
    C99's; ember_cuda.cuh's em_complex gives them the same meaning."""
    op = build_op(name, spec)
    for d in op["dtypes"]:
        inputs = [d["in"]] * op["arity"]
        if op["condition"]:
            inputs[0] = "bool"
        widest = max(ITEMSIZE[t] for t in inputs + [d["out"]])
        inputs += ["em_unused"] * (3 - op["arity"])
        d.update(in0=inputs[0], in1=inputs[1], in2=inputs[2], vec=16 // widest)
    return op


ITEMSIZE = {"bool": 1, "uint8_t": 1, "int8_t": 1, "int16_t": 2, "int32_t": 4, "int64_t": 8,
            "uint16_t": 2, "uint32_t": 4, "uint64_t": 8,
            "em_half": 2, "em_bfloat16": 2, "float": 4, "double": 8, "em_complex64": 8,
            "em_complex128": 16}


def convert(src, dst, value):
    """C expression converting one `src` element to `dst`."""
    v = LOAD.get(src["name"], "%s") % value
    if dst["kind"] == "b":
        if src["kind"] == "c":
            return f"(bool)(creal({v}) != 0 || cimag({v}) != 0)"
        return f"(bool)({v} != 0)"
    if src["kind"] == "c" and dst["kind"] != "c":
        v = f"creal({v})"
    if src["kind"] in "fc" and dst["kind"] in "ui":
        # through int64 so narrow integers wrap like PyTorch instead of hitting UB
        v = f"(int64_t)({v})"
    if dst["name"] in STORE:
        return STORE[dst["name"]] % f"(float)({v})"
    return f"(D)({v})"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("template")
    parser.add_argument("which", choices=["unary", "binary", "ternary", "cast", "fused", "cuda",
                                          "cuda-cast", "cuda-index"])
    parser.add_argument("-o", "--outfile", required=True)
    parser.add_argument("tables", nargs="+", help="the op table's files, in order")
    args = parser.parse_args()

    with open(args.template) as f:
        template = Tempita.Template(f.read(), name=args.template)
    if args.which == "cast":
        text = template.substitute(dtypes=dtype_dicts(), convert=convert)
    elif args.which in ("cuda-cast", "cuda-index"):
        real = [d for d in dtype_dicts() if d["kind"] != "c"]
        text = template.substitute(dtypes=real, all_dtypes=dtype_dicts(), convert=convert)
    else:
        table = {}
        for path in args.tables:
            with open(path, "rb") as f:
                table.update(tomllib.load(f))
        if args.which == "cuda":
            ops = [build_cuda_op(name, spec) for name, spec in table.items()]
            text = template.substitute(ops=[op for op in ops if op["dtypes"]])
            with open(args.outfile, "w") as f:
                f.write(text)
            return
        ops = [build_op(name, spec) for name, spec in table.items()]
        if args.which == "fused":
            ops = [op for op in ops if fusable(op)]
        else:
            ops = [op for op in ops if op["table"] == args.which]
        text = template.substitute(ops=ops, tables=[(None, args.which)],
                                   all_dtypes=[d[0] for d in DTYPES])
    with open(args.outfile, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
