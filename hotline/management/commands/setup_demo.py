from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hotline.demo import NotADemoDatabase, setup_demo
from hotline.demo.accounts import DEMO_2FA_SECRET, DEMO_USERS
from hotline.demo.intake import DEMO_API_KEY


class Command(BaseCommand):
    help = "Create the demo accounts and a small demo history (idempotent). Refuses unless DEBUG is on."

    def add_arguments(self, parser):
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="write the demo data although DEBUG is off (make run does: it is the demo)",
        )

    def handle(self, *args, **options):
        try:
            created = setup_demo(not_production=options["not_production"])
        except NotADemoDatabase as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(", ".join(f"{k}: {v} created" for k, v in created.items()))


def demo_logins() -> str:
    lines = [f"  {d.username:<15} {d.role}{' · ' + d.section if d.section else ''}" for d in DEMO_USERS]
    return (
        "\n".join(lines)
        + f"\n  password: {settings.DEMO_PASSWORD}"
        + f"\n  Open311 api_key: {DEMO_API_KEY}  (POST /open311/v2/requests.json)"
        + f"\n  admin second factor for 'city': authenticator secret {DEMO_2FA_SECRET}"
        + " (the current code: .venv/bin/python manage.py totp_code city)"
    )
