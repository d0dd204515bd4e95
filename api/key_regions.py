"""What an API key's regions let it submit and administer (issue 16): a contact its home region
pays for or its care region invoices; a contract of its home region. `regions` is the key's set
of region codes, or None for every region (a "*" key, or open mode: auth.current_regions())."""

from rules import Contact

# The `errors` key of a contact refused for its regions: a single contact's 403, a batch line's
# place under `rejected`. Not a field name, so a client tells it from a field that is not valid.
REGION_ERROR = "_region"


def named(regions: frozenset[str]) -> str:
    """ "region 25", "regions 01, 25": the key's regions in a message."""
    codes = ", ".join(sorted(regions))
    return f"region {codes}" if len(regions) == 1 else f"regions {codes}"


def contact_refusal(regions: frozenset[str] | None, contact: Contact) -> str | None:
    """Why a key acting for `regions` may not submit `contact`; None when it may: the paying region
    checking an invoice it received, or the care region checking a line before invoicing."""
    if regions is None or contact.home_region in regions or contact.care_region in regions:
        return None
    return (
        f"The API key acts for {named(regions)}; this contact's home_region is {contact.home_region} and "
        f"its care_region {contact.care_region}. A key submits only contacts whose home_region or "
        "care_region is one of its regions."
    )


def covers(regions: frozenset[str] | None, region: str) -> bool:
    return regions is None or region in regions
