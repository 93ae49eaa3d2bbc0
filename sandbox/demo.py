"""`make demo`: rollouts on the local cloud, with a live timeline and one RESULT line per scenario."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from sandbox.scenarios import TITLES, run

# The plain `make demo`: the canary's three endings. The judge's scenarios and the bandit's run by name.
TOUR = ("healthy", "error-spike", "drift")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="all", help="a scenario name, 'all', or 'help'")
    args = parser.parse_args(argv)
    if args.scenario == "help":
        print("Scenarios (make demo SCENARIO=<name>; plain `make demo` runs " + ", ".join(TOUR) + "):")
        for name, title in TITLES.items():
            print(f"  {name:17s} {title}")
        return 0
    names = list(TOUR) if args.scenario == "all" else [args.scenario]
    unknown = [name for name in names if name not in TITLES]
    if unknown:
        print(f"unknown scenario {unknown[0]!r}; `make demo SCENARIO=help` lists them", file=sys.stderr)
        return 2
    # The handlers' structured logs are for CloudWatch; the demo shows the decision log instead.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    results = [run(name, out=lambda line: print(line, flush=True)) for name in names]
    print()
    for result in results:
        print(result.result_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
