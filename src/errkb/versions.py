"""Format versions, kept apart from the modules that use them so `kb --version`
can print them without importing Whoosh."""

from __future__ import annotations

from . import __version__ as ERRKB_VERSION

#: The article file format (front matter fields and sections). Bump on a
#: change that old articles would fail.
ARTICLE_FORMAT = 1
#: Bump when the analyzer's tokens change: an index built with another
#: version is rebuilt automatically (3: Traditional Chinese folded to Simplified).
ANALYZER_VERSION = 3
#: Bump when the index fields or its files change (6: codes indexed under
#: their names without namespace prefixes too).
SCHEMA_REVISION = 6
#: What the index records and is compared against.
INDEX_FORMAT = f"{SCHEMA_REVISION}.{ANALYZER_VERSION}"
#: The version of every `--json` document's shape.
JSON_SCHEMA_VERSION = 1
#: What `kb --version` prints.
VERSION_TEXT = (f"kb (errkb) {ERRKB_VERSION}, article format {ARTICLE_FORMAT}, "
                f"index format {INDEX_FORMAT}")
