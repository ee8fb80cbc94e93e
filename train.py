"""`python train.py ...` is `vsr train ...`."""

import sys

from vsr.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
