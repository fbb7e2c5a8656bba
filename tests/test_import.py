"""``import deepgrad`` needs NumPy only: torch and scipy are test oracles, never imported,
and optional extras (matplotlib, cupy, tqdm, ...) load on first use, not at import."""

import json
import subprocess
import sys
import textwrap

BLOCKED = ("torch", "scipy")
NEVER_AT_IMPORT = ("torch", "scipy", "matplotlib", "cupy", "tqdm", "mpi4py", "PIL", "pandas")

SCRIPT = textwrap.dedent("""
    import json
    import sys

    BLOCKED = {blocked!r}
    attempts = []

    class Blocker:
        # A meta-path finder that refuses the blocked packages, as if not installed.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                attempts.append(name)
                raise ImportError(f"{{name}} is blocked in this test")
            return None

    sys.meta_path.insert(0, Blocker())
    before = set(sys.modules)
    import deepgrad

    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    new = sorted(set(sys.modules) - before)
    print(json.dumps({{"new": new, "attempts": attempts, "grad": x.grad.tolist(),
                      "stdlib": sorted(sys.stdlib_module_names)}}))
""")


def run_isolated() -> dict:
    result = subprocess.run([sys.executable, "-c", SCRIPT.format(blocked=BLOCKED)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"import deepgrad failed with torch blocked:\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_works_with_torch_and_scipy_blocked():
    report = run_isolated()
    assert report["grad"] == [2.0, 4.0]
    assert report["attempts"] == [], f"deepgrad tried to import {report['attempts']}"


def test_only_numpy_among_third_party_modules_after_import():
    report = run_isolated()
    stdlib = set(report["stdlib"])
    # cython_runtime is registered by NumPy's own Cython extensions (numpy.random).
    allowed = {"deepgrad", "numpy", "__main__", "cython_runtime"}
    third_party = sorted({name.split(".")[0] for name in report["new"]} - stdlib - allowed)
    # Private CPython helper modules (e.g. "_sha2") are stdlib even if not listed.
    third_party = [name for name in third_party if not name.startswith("_")]
    assert third_party == [], f"import deepgrad pulled in {third_party}"
    roots = {name.split(".")[0] for name in report["new"]}
    assert not roots & set(NEVER_AT_IMPORT)
