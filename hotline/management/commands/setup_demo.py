from django.conf import settings
from django.core.management.base import BaseCommand

from hotline.demo import DEMO_2FA_SECRET, DEMO_USERS, setup_demo


class Command(BaseCommand):
    help = "Create the demo accounts and a small demo history (idempotent)."

    def handle(self, *args, **options):
        created = setup_demo()
        self.stdout.write(", ".join(f"{k}: {v} created" for k, v in created.items()))


def demo_logins() -> str:
    lines = [f"  {d.username:<15} {d.role}" for d in DEMO_USERS]
    from hotline.intake_demo import DEMO_API_KEY

    return (
        "\n".join(lines)
        + f"\n  password: {settings.DEMO_PASSWORD}"
        + f"\n  Open311 api_key: {DEMO_API_KEY}  (POST /open311/v2/requests.json)"
        + f"\n  admin second factor for 'city': authenticator secret {DEMO_2FA_SECRET}"
        + " (today's code: manage.py shell -c \"from hotline import twofactor as t;"
        + f" print(t.code_at('{DEMO_2FA_SECRET}', t.current_step()))\")"
    )
