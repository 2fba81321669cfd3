import os
import tempfile

# Tests never touch the developer's ./data: settings read this before Django starts.
_DATA_DIR = tempfile.TemporaryDirectory(prefix="kam-test-data-")
os.environ.setdefault("KAM_DATA_DIR", _DATA_DIR.name)
