"""Row ids as the API accepts them.

Ids past 2**63 - 1 cannot reach either database (SQLite refuses to bind
them), so they are refused at the edge with the validation error every other
bad input gets, instead of failing deep in a query.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Query
from pydantic import Field

MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
AfterId = Annotated[int | None, Query(ge=0, le=MAX_ROW_ID)]
LastEventId = Annotated[int | None, Header(ge=0, le=MAX_ROW_ID)]
# An id inside a JSON body.
BodyRowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
