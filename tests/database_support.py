"""Small helpers for reaching test databases, shared by conftest.py and test modules.

(Test modules import from here, not from conftest: two conftest modules exist under the
rootdir — tests/ and notebooks/ — and `import conftest` would pick either.)
"""

from __future__ import annotations

from urllib.parse import quote


def with_schema(url: str, schema: str) -> str:
    """The PostgreSQL URL with its search_path set to `schema`."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
