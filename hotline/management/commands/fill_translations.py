"""Fill the English catalogue from the glossaries in locale/glossary/*.tsv.

Source strings are Chinese (the default language); each glossary line is "中文<TAB>English".
`make messages` runs makemessages, then this, then compilemessages. Strings without a glossary
entry are listed, so nothing untranslated goes unnoticed.
"""

import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

ENTRY = re.compile(r'^(?P<head>(?:#.*\n)*)msgid (?P<msgid>(?:".*"\n)+)msgstr (?P<msgstr>(?:".*"\n?)+)', re.M)


def _unquote(block: str) -> str:
    return "".join(re.findall(r'"(.*)"', block)).replace('\\"', '"').replace("\\n", "\n")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def load_glossary(folder: Path) -> dict[str, str]:
    glossary: dict[str, str] = {}
    for path in sorted(folder.glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "\t" in line and not line.startswith("#"):
                zh, en = line.split("\t", 1)
                glossary[zh.strip()] = en.strip()
    return glossary


class Command(BaseCommand):
    help = "Fill empty English translations from locale/glossary/*.tsv."

    def add_arguments(self, parser):
        parser.add_argument("--locale", default="en")
        parser.add_argument("--overwrite", action="store_true", help="also replace existing translations")

    def handle(self, *args, locale: str, overwrite: bool, **options):
        base = Path(settings.BASE_DIR) / "locale"
        glossary = load_glossary(base / "glossary")
        po = base / locale / "LC_MESSAGES" / "django.po"
        text = po.read_text(encoding="utf-8")
        missing: list[str] = []
        filled = 0

        def replace(match: re.Match) -> str:
            nonlocal filled
            msgid = _unquote(match["msgid"])
            current = _unquote(match["msgstr"])
            # makemessages guesses a translation for a changed string and marks it fuzzy: a guess
            # is not a translation, so fuzzy entries are filled like empty ones.
            fuzzy = re.search(r"^#,.*\bfuzzy\b", match["head"], re.M) is not None
            if not msgid or (current and not fuzzy and not overwrite):
                return match.group(0)
            if msgid not in glossary:
                missing.append(msgid)
                return match.group(0)
            filled += 1
            head = re.sub(r"^#, fuzzy\n", "", match["head"], flags=re.M)
            head = re.sub(r"^(#,.*?)\bfuzzy, ", r"\1", head, flags=re.M)
            head = re.sub(r"^(#,.*?), fuzzy\b", r"\1", head, flags=re.M)
            return f"{head}msgid {match['msgid']}msgstr {_quote(glossary[msgid])}\n"

        text = ENTRY.sub(replace, text)
        po.write_text(text, encoding="utf-8")
        self.stdout.write(f"{filled} filled, {len(missing)} without a glossary entry")
        for msgid in missing:
            self.stdout.write(f"  missing: {msgid}")
