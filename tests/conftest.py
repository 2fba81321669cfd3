import os
import tempfile

# Tests never touch the developer's ./data: settings read this before Django starts.
os.environ.setdefault("KAM_DATA_DIR", tempfile.mkdtemp(prefix="kam-test-data-"))
