from hotline import access
from hotline.models import User
from workorders.handling.selectors import pending_approvals
from workorders.models import ExclusionRequest


def approvals_waiting(*, user: User) -> dict[str, int]:
    """What waits for a district manager's decision: returns and extensions, and exclusions at
    the district stage, all within the manager's district."""

    return {
        "requests": pending_approvals(user.unit.division_id).count(),
        "exclusions": access.visible_exclusion_requests(user)
        .filter(state=ExclusionRequest.State.PENDING_DISTRICT)
        .count(),
    }
