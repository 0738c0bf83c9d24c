"""A status page's domain (endpoint 107): the path's `domain`, checked before any lookup."""
from __future__ import annotations

import re

from models.errors import Invalid

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def domain_in(value: str) -> str:
    """The domain of the path, lower case without a trailing dot; `Invalid` (422) for a
    scheme, a path, a port, an empty or over-long label, or more than 253 characters."""
    domain = value.strip().lower()
    domain = domain[:-1] if domain.endswith(".") else domain
    labels = domain.split(".")
    if (not domain or len(domain) > 253 or len(labels) < 2
            or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit()):
        raise Invalid("The domain is not a valid host name.",
                      fields={"domain": "must be a host name such as 'status.example.com' "
                                        "(no scheme, path or port; labels of 1-63 letters, "
                                        "digits or '-'; 253 characters at most)"})
    return domain
