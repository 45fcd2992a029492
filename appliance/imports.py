"""Reach the product through import strings.

`appliance` never imports `app` directly (design.md: imports run one way);
where the shell must call into the product, it names the function.
"""

from __future__ import annotations

import importlib
from typing import Any


def load_target(target: str) -> Any:
    """The object named by "package.module:attribute"."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
