"""`python -m mgen` (and `torchrun -m mgen`) run the CLI."""

from mgen.cli.app import main

if __name__ == "__main__":
    main()
