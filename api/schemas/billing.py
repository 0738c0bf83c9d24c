"""Billing (endpoints 115-125): what a request may carry."""
from __future__ import annotations

from typing import Annotated

import pydantic
from pydantic import Field, StringConstraints

from api.schemas.base import Body

VoucherCode = Annotated[str, pydantic.BeforeValidator(
    lambda value: value.strip().upper() if isinstance(value, str) else value),
    StringConstraints(pattern=r"^[A-Z0-9]{10}-[A-Z0-9]{6}$"),
    Field(description="such as AAACCCBBDD-CSSSS1 (any case)")]


class VoucherApply(Body):
    code: VoucherCode
