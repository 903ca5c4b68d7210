"""``python -m fieldgate.cli``: the same command as the ``fieldgate`` script."""

from fieldgate.cli import main

main()
