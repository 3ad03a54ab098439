"""Aliases learned from agents (别名学习).

When an agent dispatches a call to a place they chose by hand (routing found nothing there, or
pointed elsewhere), the place text of the address is proposed as an alias of that street or
community: "朝阳区光华路9号" → "光华路9号" → 建外街道. The city center reviews the proposals and
accepts or rejects each in one click; an accepted proposal becomes an Alias, and routing's index is
rebuilt (in this process at once, in the others within routing.STAMP_CHECK_SECONDS), so the next
call with that text is placed automatically.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from districts import communities, routing
from districts.models import Alias, AliasProposal, Division
from hotline import access
from hotline.errors import DomainError

MAX_NAME = 100
# What a caller says before the place itself: the city and the district.
_CITY_PREFIX = re.compile(r"^(北京市|北京)")
# A house number is not a place: what is left without digits and these must still name one.
_NUMBER_WORDS = re.compile(r"[0-9０-９一二三四五六七八九十百号楼单元室层栋座院#\-]")
_PLACE_CHAR = re.compile(r"[\u4e00-\u9fff]")


def proposal_text(address: str) -> str:
    """The part of an address that names the place: no spaces, no city, no leading district name.
    Empty when nothing worth learning is left (no Chinese character, all digits, too short)."""
    text = "".join(unicodedata.normalize("NFKC", address or "").split())
    text = _CITY_PREFIX.sub("", text)
    for district in _district_names():
        if text.startswith(district):
            text = text[len(district) :]
            break
    text = text.strip("，,。.;；:：-—")
    if len(text) < 2 or len(text) > MAX_NAME or len(_PLACE_CHAR.findall(_NUMBER_WORDS.sub("", text))) < 2:
        return ""
    return text


def _district_names() -> list[str]:
    names = []
    for name, core in Division.objects.filter(level=Division.Level.DISTRICT).values_list("name", "core_name"):
        names += [name, core + "区", core + "县", core]
    return sorted({n for n in names if len(n) >= 2}, key=len, reverse=True)


def alias_propose(*, address: str, division: Division, user) -> AliasProposal | None:
    """Record (or count again) the proposal "this text is that place". None when the text is not
    worth learning or the alias already exists. Runs inside the intake's transaction."""
    name = proposal_text(address)
    if not name or Alias.objects.filter(name=name, division=division).exists():
        return None
    updated = AliasProposal.objects.filter(name=name, division=division, state=AliasProposal.State.PROPOSED).update(
        times=F("times") + 1, last_proposed_at=timezone.now()
    )
    if updated:
        return AliasProposal.objects.filter(name=name, division=division, state=AliasProposal.State.PROPOSED).first()
    try:
        with transaction.atomic():
            return AliasProposal.objects.create(name=name, division=division, proposed_by=user)
    except IntegrityError:  # another agent proposed the same at the same moment
        return None


def pending_proposals(user, *, limit: int = 200):
    access.require(user, access.Cap.REVIEW_ALIASES)
    qs = (
        AliasProposal.objects.filter(state=AliasProposal.State.PROPOSED)
        .select_related("division__parent", "division__district", "proposed_by")
        .order_by("-times", "-last_proposed_at", "-id")
    )
    rows = list(qs[: limit + 1])
    return rows[:limit], len(rows) > limit


def _kind_for(name: str) -> str:
    if any(w in name for w in ("小区", "苑", "园", "里", "家园", "公寓")):
        return Alias.Kind.COMPOUND
    if any(w in name for w in ("路", "街", "道", "巷", "胡同", "桥")):
        return Alias.Kind.ROAD
    return Alias.Kind.LANDMARK


def proposal_decide(*, proposal_id: int, user, accept: bool) -> AliasProposal:
    """Accept (→ a new Alias, routing refreshed) or reject a pending proposal, in one transaction."""
    access.require(user, access.Cap.REVIEW_ALIASES)
    with transaction.atomic():
        proposal = (
            AliasProposal.objects.select_for_update(of=("self",))
            .select_related("division", "proposed_by")
            .filter(pk=proposal_id)
            .first()
        )
        if proposal is None:
            raise DomainError(gettext("别名提议不存在。"), code="not_found")
        if proposal.state != AliasProposal.State.PROPOSED:
            raise DomainError(gettext("该别名提议已审核。"), code="already_decided")
        if accept:
            who = proposal.proposed_by.get_username() if proposal.proposed_by else "—"
            proposal.alias, _created = Alias.objects.get_or_create(
                name=proposal.name,
                division=proposal.division,
                defaults={
                    "kind": _kind_for(proposal.name),
                    "note": gettext("由话务员手选地点学习（提议人 %(who)s，%(n)d 次）")
                    % {"who": who, "n": proposal.times},
                },
            )
            proposal.state = AliasProposal.State.ACCEPTED
        else:
            proposal.state = AliasProposal.State.REJECTED
        proposal.decided_by = user
        proposal.decided_at = timezone.now()
        proposal.save(update_fields=["state", "decided_by", "decided_at", "alias"])
    if accept:
        routing.invalidate()
        communities.clear_cache()
    return proposal
