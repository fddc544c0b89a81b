#!/usr/bin/env python3
"""Generate ember's reduction, scan and softmax kernels from their templates.

Usage: gen_reduce.py TEMPLATE.c.in -o OUT.c   (reduce.c.in or scan.c.in)
       gen_reduce.py --cuda TEMPLATE.cu.in -o OUT.cu   (src/ember/cuda/kernels/{reduce,scan}.cu.in)

The dtype list comes from gen_loops.py (one list for every generated kernel);
this script adds, per reduction and dtype, the C snippets the template stamps:
lane type, accumulator type, identity, combine, map and finalize expressions.
``--cuda`` renders the CUDA kernels from the same expressions, float16/bfloat16/float32
accumulating in float (as PyTorch does on the GPU); complex dtypes have the lane
reductions (prod, the abs-based norms, all, any: their sums and means reduce a real
view) and cumprod.
"""
import argparse

from Cython import Tempita

from gen_loops import DTYPES, LOAD, STORE

REAL = {"complex64": "float", "complex128": "double"}
SIZEOF = {"bool": 1, "uint8_t": 1, "int8_t": 1, "int16_t": 2, "int32_t": 4, "int64_t": 8,
          "uint16_t": 2, "uint32_t": 4, "uint64_t": 8,
          "float": 4, "double": 8, "double _Complex": 16}
TYPE_MIN = {"bool": "0", "uint8": "0", "int8": "INT8_MIN", "int16": "INT16_MIN",
            "int32": "INT32_MIN", "int64": "INT64_MIN", "uint16": "0", "uint32": "0", "uint64": "0"}
TYPE_MAX = {"bool": "1", "uint8": "UINT8_MAX", "int8": "INT8_MAX", "int16": "INT16_MAX",
            "int32": "INT32_MAX", "int64": "INT64_MAX", "uint16": "UINT16_MAX",
            "uint32": "UINT32_MAX", "uint64": "UINT64_MAX"}

# combine expressions over accumulators a and b (b folded after a)
ADD, MUL = "a + b", "a * b"
IMAX, IMIN = "(b > a ? b : a)", "(b < a ? b : a)"
FMAX = "((b > a || b != b) ? b : a)"   # NaN propagates
FMIN = "((b < a || b != b) ? b : a)"
# the same on generic vectors: C has no ?: on them, so selects are masks (EM_VSEL)
VECTOR_COMB = {ADD: "(a) + (b)",
               FMAX: "EM_VSEL(((b) > (a)) | ((b) != (b)), (b), (a))",
               FMIN: "EM_VSEL(((b) < (a)) | ((b) != (b)), (b), (a))"}


# float16 loads through bit arithmetic, which vectorises (see ember/reduce.h)
KERNEL_LOAD = dict(LOAD, float16="em_half_bits_to_float(%s)")


def dtype_dicts(cuda=False):
    out = []
    for name, storage, compute, kind in DTYPES:
        real = REAL.get(name, compute)
        out.append(dict(
            name=name, enum="EM_" + name.upper(), IT=storage, T=compute, kind=kind,
            load=(LOAD if cuda else KERNEL_LOAD).get(name, "%s"),
            store=STORE.get(name, f"({storage})(%s)"),
            R=real, RS=REAL.get(name, storage),
            rstore=STORE.get(name, f"({REAL.get(name, storage)})(%s)"),
            suf="f" if real == "float" else "",
        ))
    return out


def lanes_of(ctype):
    """Independent accumulators per loop: 256 bytes of them, at most 64."""
    return min(64, 256 // SIZEOF[ctype])


def vector_loop(L, ACC, comb):
    """What vrun_ (reduce.c.in) needs: the vector size, lanes per vector, elements
    per step of four vectors, the shortest run it takes, the shuffles that split a
    float vector into the halves it widens to double, and those that fold an
    accumulator vector into its lane 0 (lane l meets l + w)."""
    # selects in AVX2's 32-byte registers; sums in 64-byte vectors, which the AVX2
    # build splits in two: eight accumulators read memory 15% faster than four
    size = 64 if comb == ADD else 32
    width, lanes = size // SIZEOF[L], size // SIZEOF[ACC]
    folds = [lanes >> k for k in range(1, lanes.bit_length()) if lanes >> k]
    return dict(bytes=size, width=width, step=4 * width,
                # sums from 256 elements (below, the eight-lane loop keeps up); selecting
                # folds from one step (the eight-lane loop reloads their lanes each step)
                min=256 if comb == ADD else 4 * width,
                low=", ".join(str(l) for l in range(width // 2)),
                high=", ".join(str(l) for l in range(width // 2, width)),
                fold=[", ".join(str((l + w) % lanes) for l in range(lanes)) for w in folds])


def lane_family(dtypes):
    """Reductions that fold mapped elements with one associative combine."""
    ops = []
    for d in dtypes:
        kind, T = d["kind"], d["T"]
        same = dict(OT=d["IT"], store=d["store"])
        real = dict(OT=d["RS"], store=d["rstore"])

        def add(op, L, ACC, ident, comb, map_, fin, OT, store):
            # compiled per instruction set only where speed matters (build time triples)
            hot = op in ("SUM", "ALL", "ANY") or (kind == "f" and op in ("MAX", "MIN", "SQ_SUM"))
            # float32/float64 sums, sums of squares, max and min along contiguous runs also
            # get a loop in generic vectors (vrun_ in reduce.c.in), combined by VECTOR_COMB
            vec = (d["IT"] == T == L in ("float", "double") and comb in VECTOR_COMB
                   and map_ in ("x", "x * x"))
            ops.append(dict(op=op, id=f"{op.lower()}_{d['name']}", d=d, L=L, ACC=ACC,
                            ident=ident, comb=comb, map=map_, fin=fin, OT=OT, store=store,
                            lanes=lanes_of(L) if hot else 8, hot=hot, vec=vec,
                            vcomb=VECTOR_COMB.get(comb), idem=comb in (FMAX, FMIN),
                            vloop=vector_loop(L, ACC, comb) if vec else None))

        if kind in "bui":
            as_long = dict(OT="int64_t", store="(int64_t)(%s)")
            add("SUM", "int64_t", "int64_t", "0", ADD, "(int64_t)x", "a", **as_long)
            add("PROD", "int64_t", "int64_t", "1", MUL, "(int64_t)x", "a", **as_long)
            add("MAX", T, T, TYPE_MIN[d["name"]], IMAX, "x", "a", **same)
            add("MIN", T, T, TYPE_MAX[d["name"]], IMIN, "x", "a", **same)
        if kind == "f":
            add("SUM", T, "double", "0", ADD, "x", "a * prm->scale", **same)
            add("PROD", "double", "double", "1", MUL, "(double)x", "a", **same)
            add("MAX", T, T, "-INFINITY", FMAX, "x", "a", **same)
            add("MIN", T, T, "INFINITY", FMIN, "x", "a", **same)
            add("SQ_SUM", T, "double", "0", ADD, "x * x", "sqrt(a)", **same)
        if kind == "c":
            add("PROD", "double _Complex", "double _Complex", "1", MUL, "(double _Complex)x",
                "a", **same)
        if kind in "fc":
            R, suf = d["R"], d["suf"]
            absx = f"fabs{suf}(x)" if kind == "f" else f"cabs{suf}(x)"
            add("MAX_ABS", R, R, "0", FMAX, absx, "a", **real)
            add("MIN_ABS", R, R, "INFINITY", FMIN, absx, "a", **real)
            add("ABS_SUM", R, "double", "0", ADD, absx, "a", **real)
            add("POW_SUM", R, "double", "0", ADD, f"pow{suf}({absx}, ({R})prm->p)",
                "pow(a, prm->inv_p)", **real)
            add("NONZERO", R, "double", "0", ADD, f"({R})(x != 0)", "a", **real)
        as_bool = dict(OT="uint8_t", store="(uint8_t)(%s)")
        add("ALL", "uint8_t", "uint8_t", "1", "a & b", "(uint8_t)(x != 0)", "a", **as_bool)
        add("ANY", "uint8_t", "uint8_t", "0", "a | b", "(uint8_t)(x != 0)", "a", **as_bool)
    return ops


def arg_family(dtypes):
    ops = []
    for d in dtypes:
        if d["kind"] not in "buif":
            continue
        for op, cmp, ident in (("ARGMAX", ">", ("-INFINITY", TYPE_MIN)),
                               ("ARGMIN", "<", ("INFINITY", TYPE_MAX))):
            if d["kind"] == "f":
                better = f"(x {cmp} v || (x != x && v == v))"
                block = f"((x {cmp} v || x != x) ? x : v)"
                match = "(x == v || (x != x && v != v))"
                start = ident[0]
            else:
                better = f"(x {cmp} v)"
                block = f"(x {cmp} v ? x : v)"
                match = "(x == v)"
                start = ident[1][d["name"]]
            ops.append(dict(op=op, id=f"{op.lower()}_{d['name']}", d=d, better=better,
                            block=block, match=match, ident=start, lanes=lanes_of(d["T"]),
                            hot=d["kind"] == "f"))
    return ops


def scan_family(dtypes):
    """cumsum and cumprod: integers accumulate in int64 (their result dtype)."""
    ops = []
    for d in dtypes:
        for op, comb, ident in (("sum", "+", "0"), ("prod", "*", "1")):
            if d["kind"] in "bui":
                ops.append(dict(op=op, comb=comb, ident=ident, d=d, ACC="int64_t", OT="int64_t",
                                store="(int64_t)(%s)"))
            elif d["kind"] == "f":
                acc = "double" if d["name"] in ("float32", "float64") else "float"
                ops.append(dict(op=op, comb=comb, ident=ident, d=d, ACC=acc, OT=d["IT"],
                                store=d["store"]))
            elif op == "prod":      # a complex cumsum runs on the real and imaginary parts
                ops.append(dict(op=op, comb=comb, ident=ident, d=d, ACC="double _Complex",
                                OT=d["IT"], store=f"({d['IT']})(%s)"))
    return ops


def cumext_family(dtypes):
    """cummax and cummin: when the running extreme moves to element x (b is the extreme so far)."""
    ops = []
    for d in dtypes:
        if d["kind"] == "c":
            continue
        for op, cmp in (("cummax", ">="), ("cummin", "<=")):
            take = f"x {cmp} b || x != x" if d["kind"] == "f" else f"x {cmp} b"
            ops.append(dict(op=op, d=d, take=take))
    return ops


def gpu_acc(d):
    """The GPU's accumulator for floating dtype ``d``: float up to float32."""
    return "double" if d["name"] == "float64" else "float"


def cuda_families(dtypes):
    """The template arguments of reduce.cu.in and scan.cu.in: the CPU's lane and arg
    reductions with the GPU's accumulators (``FA``: the type ``fin`` sees), var, the
    scans, cummax/cummin and the softmax (and logcumsumexp) dtypes."""
    lane_ops = lane_family(dtypes)
    for r in lane_ops:
        if r["d"]["kind"] == "f":
            r["ACC"] = gpu_acc(r["d"]) if r["op"] == "PROD" else r["L"]
            r["FA"] = "double"
        elif r["op"] == "PROD" and r["d"]["kind"] == "c":
            # a complex product accumulates in its own dtype (em_complex of ember_cuda.cuh)
            r["ACC"] = r["FA"] = r["d"]["T"]
            r["map"] = "x"
        else:
            r["ACC"] = r["FA"] = r["L"]
    arg_ops = arg_family(dtypes)
    # `at`: the element at a byte address, converted to the accumulator type
    floats = [dict(d, ACC=gpu_acc(d), at=f"({gpu_acc(d)})("
                   + d["load"] % f"*reinterpret_cast<const {d['IT']} *>(%s)" + ")")
              for d in dtypes if d["kind"] == "f"]
    scan_ops = scan_family(dtypes)
    for r in scan_ops:
        if r["d"]["kind"] == "f":
            r["ACC"] = gpu_acc(r["d"])
        elif r["d"]["kind"] == "c":         # cumprod: in its own dtype, as prod
            r["ACC"] = r["d"]["T"]
    ids = ([r["id"] for r in lane_ops] + [r["id"] for r in arg_ops]
           + [f"var_{d['name']}" for d in floats])
    return dict(lane_ops=lane_ops, arg_ops=arg_ops, var_dtypes=floats, kernel_ids=ids,
                scan_ops=scan_ops, cumext_ops=cumext_family(dtypes), softmax_dtypes=floats)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("template")
    parser.add_argument("-o", "--outfile", required=True)
    parser.add_argument("--cuda", action="store_true", help="render a CUDA template")
    args = parser.parse_args()
    dtypes = dtype_dicts(args.cuda)
    floats = [d for d in dtypes if d["kind"] == "f"]
    with open(args.template) as f:
        template = Tempita.Template(f.read(), name=args.template)
    if args.cuda:
        text = template.substitute(**cuda_families(dtypes))
        with open(args.outfile, "w") as f:
            f.write(text)
        return
    text = template.substitute(
        lane_ops=lane_family(dtypes), arg_ops=arg_family(dtypes), var_dtypes=floats,
        scan_ops=scan_family(dtypes), cumext_ops=cumext_family(dtypes), softmax_dtypes=floats,
        complex_dtypes=[d for d in dtypes if d["kind"] == "c"],
        float_lanes=lanes_of("float"), double_lanes=lanes_of("double"),
    )
    with open(args.outfile, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
