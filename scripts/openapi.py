"""Write or check the committed OpenAPI document (docs/openapi.json) against the code.

python scripts/openapi.py --write   regenerate it
python scripts/openapi.py --check   fail when the code's API differs from the committed one
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "openapi.json"


def generate() -> str:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("WANGGE_DATA_DIR", tempfile.mkdtemp(prefix="wangge-openapi-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings_test")
    import django

    django.setup()
    from wangge.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> int:
    text = generate()
    if "--write" in sys.argv:
        TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)}")
        return 0
    committed = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
    if committed != text:
        print(
            "docs/openapi.json is out of date: run `make openapi` and commit it.", file=sys.stderr
        )
        return 1
    print("docs/openapi.json is up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
