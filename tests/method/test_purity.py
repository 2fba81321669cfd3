import ast
import subprocess
import sys
from pathlib import Path

import kam.method

METHOD_DIR = Path(kam.method.__file__).parent


def test_no_module_of_the_method_imports_django_in_its_source():
    for path in sorted(METHOD_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "django" for n in names), (
                f"{path.name} imports {names}"
            )


def test_importing_the_whole_method_loads_no_django():
    modules = sorted(p.stem for p in METHOD_DIR.glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import kam.method.{m}\n" for m in modules)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert len(modules) >= 10
    assert result.stdout.strip() == "[]"
