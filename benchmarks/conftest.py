def pytest_addoption(parser):
    parser.addoption("--bench-sizes", default="64x64,1e6,1e8",
                     help="comma-separated sizes of fastinit.bench.SIZES to run (default: %(default)s)")


def pytest_collection_modifyitems(config, items):
    import pytest

    sizes = set(config.getoption("--bench-sizes").split(","))
    skip = pytest.mark.skip(reason="size not selected by --bench-sizes")
    for item in items:
        case = getattr(item, "callspec", None) and item.callspec.params.get("case")
        if case is not None and case.size not in sizes:
            item.add_marker(skip)
