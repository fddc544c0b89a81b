"""The documentation builds with warnings as errors, its examples run, and the
API reference lists every public name of the installed package."""
import doctest
import importlib.util
import inspect
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import ember

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "doc"
SPHINX_TIMEOUT_S = 900


def _sphinx(builder, out_dir, doctree_dir):
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q",
           "-b", builder, "-d", str(doctree_dir), str(DOC), str(out_dir)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=SPHINX_TIMEOUT_S)


def _report(result):
    return (f"sphinx exited with {result.returncode}\n--- stderr (warnings) ---\n"
            f"{result.stderr}\n--- stdout ---\n{result.stdout[-5000:]}")


@pytest.fixture(scope="module")
def doctree_dir(tmp_path_factory):
    """Doctrees of one HTML build, shared with the doctest build so sources are read once."""
    base = tmp_path_factory.mktemp("docs")
    result = _sphinx("html", base / "html", base / "doctrees")
    return base, result


def test_html_build_has_no_warnings(doctree_dir):
    base, result = doctree_dir
    print(result.stderr)
    assert result.returncode == 0, _report(result)
    assert result.stderr.strip() == "", _report(result)
    assert (base / "html" / "reference" / "generated" / "tensor.html").is_file()
    assert (base / "html" / "user_guide" / "tensors.html").is_file()


def test_doc_examples_run(doctree_dir):
    base, html = doctree_dir
    if html.returncode != 0:
        pytest.fail("the HTML build failed; see test_html_build_has_no_warnings")
    result = _sphinx("doctest", base / "doctest", base / "doctrees")
    assert result.returncode == 0, _report(result) + (base / "doctest" / "output.txt").read_text()
    summary = (base / "doctest" / "output.txt").read_text()
    ran = int(re.search(r"Doctest summary\n=+\n\s*(\d+) tests", summary).group(1))
    assert ran >= 50, summary


def _load_api_extension():
    spec = importlib.util.spec_from_file_location("ember_api", DOC / "_ext" / "ember_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _documented(pages):
    """Full names of the objects that the pages' directives describe."""
    names = set()
    for text in pages.values():
        lines = text.splitlines()
        for i, line in enumerate(lines):
            match = re.match(r"\.\. (?:auto|py:)(\w+):: ([\w.]+)", line)
            if not match:
                continue
            name = match.group(2)
            option = re.match(r"\s+:module: ([\w.]+)", lines[i + 1]) if i + 1 < len(lines) else None
            if option:
                name = f"{option.group(1)}.{name}"
            names.add(name)
    return names


def _public(obj):
    return [n for n in dir(obj) if not n.startswith("_")]


def test_reference_lists_every_public_name():
    api = _load_api_extension()
    documented = _documented(api.build_pages())
    public = api.public_namespace(ember)
    # the filter drops only submodules and names imported from outside ember
    dropped = {n for n in _public(ember) if n not in public}
    assert all(isinstance(getattr(ember, n), types.ModuleType) or
               not getattr(getattr(ember, n), "__module__", "ember").startswith("ember")
               for n in dropped), dropped
    expected = {f"ember.{n}" for n in public}
    expected |= {f"ember.Tensor.{n}" for n in _public(ember.Tensor)}
    missing = sorted(expected - documented)
    assert not missing, f"public names missing from the API reference: {missing}"


def test_reference_sorts_functions_by_kind():
    pages = _load_api_extension().build_pages()
    assert ".. autofunction:: ember.exp" in pages["elementwise.rst"]
    assert ".. autofunction:: ember.zeros" in pages["creation.rst"]
    assert ".. autofunction:: ember.permute" in pages["views.rst"]
    assert ".. automethod:: ember.Tensor.reshape" in pages["tensor.rst"]
    assert "py:data:: float32" in pages["dtypes.rst"]
    toc = pages["contents.inc"]
    assert toc.index("generated/tensor") < toc.index("generated/elementwise")
    # an alias points to the function documented under its own name
    assert "Alias of :func:`ember.clamp`." in pages["elementwise.rst"]


def test_public_callables_have_docstrings():
    """Every public function and Tensor method carries a docstring (numpydoc style)."""
    undocumented = [f"ember.{n}" for n in _public(ember)
                    if callable(getattr(ember, n)) and not inspect.getdoc(getattr(ember, n))]
    undocumented += [f"ember.Tensor.{n}" for n in _public(ember.Tensor)
                     if not (getattr(ember.Tensor, n).__doc__ or "").strip()]
    assert not undocumented, f"public names without a docstring: {undocumented}"


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```pycon\n(.*?)```", text, re.DOTALL)
    assert blocks, "README.md has no ```pycon example"
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(verbose=False)
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README.md example {i}", "README.md", 0))
    result = runner.summarize(verbose=False)
    assert result.attempted > 0 and result.failed == 0, f"{result.failed} README example lines failed"
