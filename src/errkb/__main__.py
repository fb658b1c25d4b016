"""`python -m errkb` is the `kb` command."""

from errkb.cli import main

if __name__ == "__main__":
    main()
