"""`manage.py totp_code [USERNAME]`: print the current six-digit code of a user's enrolled
authenticator (default: the demo `city` account) and nothing else, so a script or a newcomer can
paste it. For the demo and tests only: it reads the secret from the database, which a real
administrator's phone never needs."""

from django.core.management.base import BaseCommand, CommandError

from hotline.accounts import twofactor
from hotline.models import AdminSecondFactor


class Command(BaseCommand):
    help = "Print the current second-factor code of a user's enrolled authenticator (demo and tests)."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="city")

    def handle(self, *args, username: str, **options):
        factor = AdminSecondFactor.objects.filter(user__username=username).first()
        if factor is None:
            raise CommandError(f"{username} has no authenticator enrolled")
        self.stdout.write(twofactor.code_at(factor.secret, twofactor.current_step()))
