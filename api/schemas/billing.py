"""Billing (endpoints 115-125): what a request may carry."""
from __future__ import annotations

from typing import Annotated

import pydantic
from pydantic import Field, StringConstraints

from api.schemas.base import Body

# the upper-casing validator comes after the constraints (it still runs first): in front of
# them it hid the pattern from /openapi.json
VoucherCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{10}-[A-Z0-9]{6}$"),
                        pydantic.BeforeValidator(
                            lambda value: value.strip().upper() if isinstance(value, str)
                            else value),
                        Field(description="such as AAACCCBBDD-CSSSS1 (any case)")]


class VoucherApply(Body):
    code: VoucherCode


class PriceChange(Body):
    price_id: Annotated[str, StringConstraints(strip_whitespace=True,
                                               pattern=r"^price_[A-Za-z0-9]{1,64}$")] = Field(
        description="the Stripe price to move the subscription to, such as price_1MU7is...")


class PurchaseInfo(Body):
    plan: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}$")] = "team"
    version: Annotated[str, StringConstraints(pattern=r"^v[0-9]{1,4}$")] = "v1"


class Nothing(Body):
    """A body of `{}` (or none)."""
