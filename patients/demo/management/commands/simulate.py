"""`manage.py simulate`: a simulated clinic year (patients/demo/simulation.py, docs/simulation.md)."""

from datetime import date

from django.core.management.base import BaseCommand

from patients.demo.simulation import Params, cases, phases, run, table


class Command(BaseCommand):
    help = (
        "Play a simulated clinic year through the services, in a throw-away database of its own, "
        "and print its figures."
    )

    def add_arguments(self, parser):
        defaults = Params()
        parser.add_argument("--children", type=int, default=defaults.children)
        parser.add_argument("--days", type=int, default=defaults.days)
        parser.add_argument("--spread", type=float, default=defaults.spread)
        parser.add_argument("--no-show", type=float, default=defaults.no_show)
        parser.add_argument("--unreachable", type=float, default=defaults.unreachable)
        parser.add_argument("--max-delay", type=int, default=defaults.max_delay)
        parser.add_argument("--undelivered", type=float, default=defaults.undelivered)
        parser.add_argument("--dose-changes", type=float, default=defaults.program_change)
        parser.add_argument("--boluses", type=float, default=defaults.bolus)
        parser.add_argument("--phases", action="store_true", help="also print seconds and queries per phase")
        parser.add_argument(
            "--cases", action="store_true",
            help="also list each interval that came within 7 days of a true alarm with no refill booked",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--start", type=date.fromisoformat, default=defaults.start)
        parser.add_argument(
            "--observed", choices=["on", "off", "both"], default="both",
            help="the observed-delivery forecast: on, off, or both runs one after the other",
        )  # fmt: skip

    def handle(self, *args, **o):
        modes = {"on": [True], "off": [False], "both": [False, True]}[o["observed"]]
        for observed in modes:
            params = Params(
                children=o["children"], days=o["days"], spread=o["spread"], no_show=o["no_show"],
                unreachable=o["unreachable"], max_delay=o["max_delay"], undelivered=o["undelivered"],
                program_change=o["dose_changes"], bolus=o["boluses"], seed=o["seed"], start=o["start"],
                observed=observed,
            )  # fmt: skip
            figures = run(params, log=lambda line: self.stderr.write(line), throwaway=True)
            self.stdout.write(table(params, figures) + "\n\n")
            if o["phases"]:
                self.stdout.write(phases(figures) + "\n\n")
            if o["cases"]:
                self.stdout.write(cases(figures) + "\n\n")
