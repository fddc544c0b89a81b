"""Every Python and Cython source of the package is named by a meson.build, so that it is
installed (a module missing from ``install_sources`` imports from a source checkout on
``PYTHONPATH`` but not from an installed ember)."""
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ember"


def _named_sources(build_file):
    return set(re.findall(r"'([^']+\.pyx?)'", build_file.read_text()))


def test_every_module_is_installed():
    missing = []
    for source in sorted(PACKAGE.rglob("*.py*")):
        if source.suffix not in (".py", ".pyx") or "__pycache__" in source.parts:
            continue
        folder = source.parent
        # the nearest meson.build above the file names it relative to its own folder
        while not (folder / "meson.build").exists():
            folder = folder.parent
        if source.relative_to(folder).as_posix() not in _named_sources(folder / "meson.build"):
            missing.append(str(source.relative_to(PACKAGE)))
    assert not missing, f"not in any meson.build: {missing}"


def test_every_package_folder_is_built():
    for build_file in PACKAGE.rglob("meson.build"):
        folder = build_file.parent
        if folder == PACKAGE:
            continue
        parent = folder.parent
        while not (parent / "meson.build").exists():
            parent = parent.parent
        assert f"subdir('{folder.name}')" in (parent / "meson.build").read_text(), folder


def test_version_comes_from_meson_build():
    import ember
    meson_build = (PACKAGE.parents[1] / "meson.build").read_text()
    assert re.search(r"version:\s*'([^']+)'", meson_build).group(1) == ember.__version__
    assert ember.version.__version__ == ember.__version__
    from ember.cuda._build import FATBIN_ARCHS
    # like torch.version.cuda: a toolkit version where the kernels were compiled, else None
    assert (ember.version.cuda is None) == (not FATBIN_ARCHS)
    assert ember.version.cuda is None or re.fullmatch(r"\d+\.\d+(\.\d+)?", ember.version.cuda)
