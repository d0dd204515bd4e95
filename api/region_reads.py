"""Which decisions a caller may read: those whose home_region or care_region is one of its key's
regions (issue 16). Storage applies the regions to every read (by id, lists, the feed,
re-adjudication); this refuses a read that names a home region outside them, rather than answer
it with less than was asked for."""

from .auth import current_client, current_regions
from .key_regions import named
from .problem import ProblemError


def regions_to_read(home_region: str | None = None) -> frozenset[str] | None:
    """The caller's regions (None: every region); a 403 problem when `home_region` is not one."""
    regions = current_regions()
    if home_region is None or regions is None or home_region in regions:
        return regions
    raise ProblemError(
        403,
        f"The API key {current_client()!r} acts for {named(regions)} and reads the decisions whose "
        f"home_region or care_region is one of them; home_region '{home_region}' is not one of them. "
        "Leave home_region out to read every decision about care given in your regions, whatever the "
        "patient's home region.",
    )
