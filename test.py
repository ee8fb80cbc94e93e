"""`python test.py ...` is `vsr test ...`."""

import sys

from vsr.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["test", *sys.argv[1:]]))
