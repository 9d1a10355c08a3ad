"""mo: a recipe-costing workbench for food businesses."""

from mo.errors import ErrorCode, MOError

__all__ = ["ErrorCode", "MOError"]
__version__ = "0.1.0"
