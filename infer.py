"""`python infer.py ...` is `vsr infer ...`."""

import sys

from vsr.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["infer", *sys.argv[1:]]))
