"""NumPy's own ``TestGradient`` (numpy/lib/tests/test_function_base.py of
the installed NumPy), run with its ``gradient`` replaced by
``oxla.gradient``: its assertions, unchanged, hold for oxla.

Skipped, as documented in docs/python.md: ``test_datetime64`` and
``test_timedelta64`` (oxla computes with numbers, not dates) and
``test_masked`` (masked arrays are refused, not differentiated with their
mask ignored)."""

import pytest

numpy_tests = pytest.importorskip("numpy.lib.tests.test_function_base")

import oxla  # noqa: E402

UNSUPPORTED = {
    "test_datetime64": "datetime64 input is not supported (docs/python.md)",
    "test_timedelta64": "timedelta64 input is not supported (docs/python.md)",
    "test_masked": "masked arrays are refused (docs/python.md)",
}


@pytest.fixture(autouse=True)
def gradient_is_oxla(monkeypatch):
    monkeypatch.setattr(numpy_tests, "gradient", oxla.gradient)


class TestNumpyGradientWithOxla(numpy_tests.TestGradient):
    @pytest.fixture(autouse=True)
    def skip_unsupported(self, request):
        reason = UNSUPPORTED.get(request.node.originalname)
        if reason:
            pytest.skip(reason)


def test_the_patch_reaches_numpys_tests():
    # NumPy's test methods call the module's `gradient`: the patched one
    assert numpy_tests.gradient is oxla.gradient
