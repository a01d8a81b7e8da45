"""List, and with --delete remove, evidence files that no evidence row names."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from plans.uploads import evidence_orphans


class Command(BaseCommand):
    help = (
        "List evidence files under EVIDENCE_ROOT that no evidence row names (older than an "
        "hour); --delete removes them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--delete", action="store_true", help="Remove the files listed.")

    def handle(self, *args: Any, **options: Any) -> None:
        orphans = evidence_orphans(delete=options["delete"])
        for name in orphans:
            self.stdout.write(name)
        verb = "Removed" if options["delete"] else "Found"
        self.stdout.write(f"{verb} {len(orphans)} orphaned evidence file(s).")
