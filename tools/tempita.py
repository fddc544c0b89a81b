#!/usr/bin/env python3
"""Render a Tempita template (``*.in``) to the output path given with ``-o``."""
import argparse
import os

from Cython import Tempita


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("infile")
    parser.add_argument("-o", "--outfile", required=True)
    args = parser.parse_args()
    if not args.infile.endswith(".in"):
        raise SystemExit(f"template names end in .in: {args.infile}")
    with open(args.infile) as f:
        text = Tempita.sub(f.read(), __name=os.path.basename(args.infile))
    with open(args.outfile, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
