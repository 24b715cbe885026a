"""``python -m bench``: run the benchmarks and print one table (see bench/cli.py)."""

from bench.cli import main

raise SystemExit(main())
