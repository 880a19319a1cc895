"""The package itself: what ``import oxla`` imports, its docstring
examples, its typing stubs."""

import doctest
import importlib
import inspect
import os
import subprocess
import sys

import pytest

import oxla


def run(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_import_oxla_imports_neither_dask_nor_numpy():
    out = run("import sys, oxla; print('dask' in sys.modules, 'numpy' in sys.modules)")
    assert out == "False False"


def test_oxla_dask_is_a_submodule_imported_on_use():
    out = run("import sys, oxla; d = oxla.dask; print('dask' in sys.modules, d.__name__)")
    assert out == "True oxla.dask"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        oxla.nope


@pytest.mark.parametrize("module", ["oxla", "oxla._api", "oxla.dask"])
def test_docstring_examples(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_every_public_function_has_a_docstring_and_a_stub():
    package = os.path.dirname(oxla.__file__)
    for stub in ["__init__.pyi", "dask.pyi", "_oxla.pyi", "py.typed"]:
        assert os.path.exists(os.path.join(package, stub)), stub
    dask = importlib.import_module("oxla.dask")
    for f in [oxla.gradient, oxla.gradient_vjp, dask.gradient]:
        assert "Examples" in inspect.getdoc(f)
    with open(os.path.join(package, "__init__.pyi"), encoding="utf-8") as fh:
        stubs = fh.read()
    assert "def gradient(" in stubs and "def gradient_vjp(" in stubs


def test_the_readmes_python_examples():
    readme = os.path.join(os.path.dirname(__file__), "..", "..", "..", "README.md")
    with open(readme, encoding="utf-8") as fh:
        text = fh.read()
    section = text.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```python\n")[1:]
    assert len(blocks) == 2
    namespace = {}
    dask = pytest.importorskip("dask")
    # the threaded scheduler, even if a test's distributed client is the default
    with dask.config.set(scheduler="threads"):
        for block in blocks:
            exec(compile(block.split("```", 1)[0], "README.md", "exec"), namespace)
