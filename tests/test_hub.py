"""ember.hub against torch.hub, offline: the cache layout under the home directory, file
names, downloads of file:// URLs (atomic, hash-checked), checkpoints saved with
ember.save, hubconf.py entrypoints of a local directory or of a cached or zipped
GitHub repository, the trust prompt, and the errors."""
import hashlib
import inspect
import io
import json
import os
import sys
import zipfile
from urllib.error import HTTPError, URLError

import numpy as np
import pytest
import torch
import torch.hub

import ember
import ember.hub

HUBCONF = '''\
"""A test hubconf.py that imports neither ember nor torch."""
dependencies = ["json"]
HIDDEN_CONSTANT = 3


def affine(scale, shift=0.0):
    """An affine map, as a dict."""
    return {"scale": scale, "shift": shift}


def _helper():
    return None
'''


@pytest.fixture(autouse=True)
def homes(tmp_path, monkeypatch):
    """EMBER_HOME and TORCH_HOME in tmp_path (never the real cache), no set_dir override."""
    ember_home, torch_home = tmp_path / "ember_home", tmp_path / "torch_home"
    monkeypatch.setenv("EMBER_HOME", str(ember_home))
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    monkeypatch.setattr(ember.hub, "_hub_dir", None)
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    return ember_home, torch_home


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _tree(root):
    # bytecode caches are left out: whether importing hubconf.py writes one depends on
    # the interpreter's settings (PYTHONDONTWRITEBYTECODE), not on the hub
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, files in os.walk(root) for f in files
                  if "__pycache__" not in os.path.relpath(d, root).split(os.sep))


# --- module, directories ----------------------------------------------------------------

def test_module_and_signatures_match_torch():
    assert ember.hub is sys.modules["ember.hub"]
    assert ember.hub.__all__ == torch.hub.__all__
    for name in torch.hub.__all__:
        ours = inspect.signature(getattr(ember.hub, name)).parameters
        theirs = inspect.signature(getattr(torch.hub, name)).parameters
        assert [(p.name, p.kind, p.default) for p in ours.values()] == \
            [(p.name, p.kind, p.default) for p in theirs.values()], name
        assert inspect.getdoc(getattr(ember.hub, name))


def test_get_dir_follows_the_environment(tmp_path, monkeypatch, homes):
    ember_home, torch_home = homes
    assert ember.hub.get_dir() == os.path.join(ember_home, "hub")
    assert os.path.relpath(torch.hub.get_dir(), torch_home) == \
        os.path.relpath(ember.hub.get_dir(), ember_home)
    monkeypatch.delenv("EMBER_HOME")
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ember.hub.get_dir() == str(tmp_path / "xdg" / "ember" / "hub")
    assert torch.hub.get_dir() == str(tmp_path / "xdg" / "torch" / "hub")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert ember.hub.get_dir() == str(tmp_path / "home" / ".cache" / "ember" / "hub")
    monkeypatch.setenv("EMBER_HOME", "~/models")
    assert ember.hub.get_dir() == str(tmp_path / "home" / "models" / "hub")


def test_set_dir_overrides_and_expands_user(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    ember.hub.set_dir("~/elsewhere")
    torch.hub.set_dir("~/elsewhere")
    assert ember.hub.get_dir() == torch.hub.get_dir() == str(tmp_path / "elsewhere")
    ember.hub.set_dir(tmp_path / "path_object")
    assert ember.hub.get_dir() == str(tmp_path / "path_object")


# --- download_url_to_file ---------------------------------------------------------------

def test_download_file_url_like_torch(tmp_path):
    data = os.urandom(300_000)  # more than one read chunk
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    ember.hub.download_url_to_file(source.as_uri(), str(tmp_path / "ours.bin"),
                                   hash_prefix=digest[:10], progress=False)
    torch.hub.download_url_to_file(source.as_uri(), str(tmp_path / "theirs.bin"),
                                   hash_prefix=digest[:10], progress=False)
    assert (tmp_path / "ours.bin").read_bytes() == (tmp_path / "theirs.bin").read_bytes() == data
    # the full digest and an empty prefix pass too; no temporary file is left
    ember.hub.download_url_to_file(source.as_uri(), tmp_path / "full.bin", digest, False)
    ember.hub.download_url_to_file(source.as_uri(), tmp_path / "empty.bin", "", False)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".partial")]


def test_download_progress_goes_to_stderr(tmp_path, capfd):
    source = _write(tmp_path / "source.txt", "x" * 1000)
    ember.hub.download_url_to_file(source.as_uri(), tmp_path / "copy.txt", progress=True)
    out, err = capfd.readouterr()
    assert out == "" and err
    ember.hub.download_url_to_file(source.as_uri(), tmp_path / "copy.txt", progress=False)
    assert capfd.readouterr() == ("", "")


def test_download_expands_user(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    source = _write(tmp_path / "source.txt", "home")
    ember.hub.download_url_to_file(source.as_uri(), "~/copy.txt", progress=False)
    assert (tmp_path / "copy.txt").read_text() == "home"


def test_download_hash_mismatch_is_torchs_error_and_keeps_the_old_file(tmp_path):
    source = _write(tmp_path / "source.txt", "new contents")
    dst = _write(tmp_path / "dst.txt", "previous")
    messages = []
    for hub in (ember.hub, torch.hub):
        with pytest.raises(RuntimeError) as info:
            hub.download_url_to_file(source.as_uri(), str(dst), hash_prefix="0000",
                                     progress=False)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith('invalid hash value (expected "0000", got "')
    assert dst.read_text() == "previous"
    assert sorted(os.listdir(tmp_path)) == ["dst.txt", "source.txt"]


def test_interrupted_download_leaves_no_file(tmp_path, monkeypatch):
    dst = _write(tmp_path / "dst.bin", "previous")

    class Headers:
        def get_all(self, name):
            return None

    class Broken(io.BytesIO):
        """A response whose connection drops after the first chunk."""

        def __init__(self):
            super().__init__(b"a" * 10)
            self.calls = 0

        def info(self):
            return Headers()

        def read(self, n=-1):
            self.calls += 1
            if self.calls > 1:
                raise ConnectionResetError("connection lost")
            return super().read(n)

    monkeypatch.setattr(ember.hub, "urlopen", lambda request: Broken())
    with pytest.raises(ConnectionResetError):
        ember.hub.download_url_to_file("https://example.invalid/x.bin", str(dst), progress=False)
    assert dst.read_text() == "previous"
    assert os.listdir(tmp_path) == ["dst.bin"]
    with pytest.raises(ConnectionResetError):
        ember.hub.download_url_to_file("https://example.invalid/x.bin", str(tmp_path / "new"),
                                       progress=False)
    assert os.listdir(tmp_path) == ["dst.bin"]


def test_download_missing_file_url_raises_urlerror(tmp_path):
    url = (tmp_path / "missing.bin").as_uri()
    for hub in (ember.hub, torch.hub):
        with pytest.raises(URLError):
            hub.download_url_to_file(url, str(tmp_path / "dst.bin"), progress=False)
    assert os.listdir(tmp_path) == []


# --- load_state_dict_from_url -----------------------------------------------------------

def _state_file(folder, stem="linear"):
    """An ember.save'd state dict named <stem>-<first 8 digits of its sha256>.safetensors."""
    ember.manual_seed(0)
    state = ember.nn.Linear(3, 2, dtype=ember.float64).state_dict()
    tmp = folder / "tmp.safetensors"
    ember.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    path = folder / f"{stem}-{digest[:8]}.safetensors"
    tmp.rename(path)
    return state, path


def test_load_state_dict_from_url_caches_in_checkpoints(tmp_path, homes, capsys):
    ember_home, torch_home = homes
    served = tmp_path / "served"
    served.mkdir()
    state, path = _state_file(served)
    loaded = ember.hub.load_state_dict_from_url(path.as_uri(), progress=False, check_hash=True)
    assert sorted(loaded) == ["bias", "weight"]
    for key in state:
        assert loaded[key].dtype == ember.float64
        np.testing.assert_array_equal(np.asarray(loaded[key]), np.asarray(state[key]))
    cached = ember_home / "hub" / "checkpoints" / path.name
    assert cached.read_bytes() == path.read_bytes()
    assert capsys.readouterr().out == f'Downloading: "{path.as_uri()}" to {cached}\n'
    # torch keeps its download at the same place under its home, and says so the same way
    torch_file = served / "net-0123.pt"
    torch.save({"w": torch.ones(2)}, torch_file)
    torch.hub.load_state_dict_from_url(torch_file.as_uri(), progress=False)
    torch_cached = torch_home / "hub" / "checkpoints" / torch_file.name
    assert torch_cached.is_file()
    assert capsys.readouterr().out == f'Downloading: "{torch_file.as_uri()}" to {torch_cached}\n'
    # a second call reads the cache: the URL need not work any more, nothing is printed
    path.unlink()
    again = ember.hub.load_state_dict_from_url(path.as_uri(), progress=False)
    np.testing.assert_array_equal(np.asarray(again["weight"]), np.asarray(state["weight"]))
    assert capsys.readouterr().out == ""


def test_load_state_dict_from_url_arguments(tmp_path, capsys):
    state, path = _state_file(tmp_path)
    model_dir = tmp_path / "models"
    loaded = ember.hub.load_state_dict_from_url(
        path.as_uri(), model_dir=str(model_dir), map_location="cpu", file_name="renamed.st",
        weights_only=True, progress=False)
    assert os.listdir(model_dir) == ["renamed.st"]
    assert loaded["weight"].device.type == "cpu"
    seen = []
    loaded = ember.hub.load_state_dict_from_url(
        path.as_uri(), model_dir=str(model_dir), file_name="renamed.st",
        map_location=lambda tensor, location: seen.append(location) or tensor * 2)
    assert seen == ["cpu", "cpu"]
    np.testing.assert_allclose(np.asarray(loaded["bias"]), 2 * np.asarray(state["bias"]))
    # a model made from the loaded state gives the saved parameters
    linear = ember.nn.Linear(3, 2, dtype=ember.float64)
    linear.load_state_dict(ember.hub.load_state_dict_from_url(
        path.as_uri(), model_dir=str(model_dir), file_name="renamed.st"))
    np.testing.assert_array_equal(linear.weight.detach().numpy(), np.asarray(state["weight"]))


def test_load_state_dict_from_url_bad_hash(tmp_path, homes):
    ember_home, torch_home = homes
    _, path = _state_file(tmp_path)
    wrong = path.with_name("linear-deadbeef.safetensors")
    path.rename(wrong)
    with pytest.raises(RuntimeError, match=r'invalid hash value \(expected "deadbeef"'):
        ember.hub.load_state_dict_from_url(wrong.as_uri(), check_hash=True, progress=False)
    with pytest.raises(RuntimeError, match=r'invalid hash value \(expected "deadbeef"'):
        torch.hub.load_state_dict_from_url(wrong.as_uri(), check_hash=True, progress=False)
    assert os.listdir(ember_home / "hub" / "checkpoints") == []
    assert os.listdir(torch_home / "hub" / "checkpoints") == []
    # without check_hash the name's digits are not checked
    ember.hub.load_state_dict_from_url(wrong.as_uri(), progress=False)
    assert os.listdir(ember_home / "hub" / "checkpoints") == [wrong.name]


def test_load_state_dict_from_a_zip_of_one_file(tmp_path, homes):
    ember_home, _ = homes
    state, path = _state_file(tmp_path)
    archive = tmp_path / "linear.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(path, arcname="inner.safetensors")
    with pytest.warns(FutureWarning, match="zip archive of one file"):
        loaded = ember.hub.load_state_dict_from_url(archive.as_uri(), progress=False)
    np.testing.assert_array_equal(np.asarray(loaded["weight"]), np.asarray(state["weight"]))
    assert sorted(os.listdir(ember_home / "hub" / "checkpoints")) == \
        ["inner.safetensors", "linear.zip"]


def test_load_state_dict_from_url_refuses_a_torch_pickle(tmp_path):
    path = tmp_path / "net.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(ValueError, match="torch.save"):
        ember.hub.load_state_dict_from_url(path.as_uri(), progress=False)


# --- hubconf.py: local directories ------------------------------------------------------

def test_load_local_like_torch(tmp_path):
    repo = tmp_path / "repo"
    _write(repo / "hubconf.py", HUBCONF)
    path_before = list(sys.path)
    for source in ("local", "LOCAL", "Local"):
        ours = ember.hub.load(str(repo), "affine", 2.0, source=source, shift=1.0)
        theirs = torch.hub.load(str(repo), "affine", 2.0, source=source, shift=1.0)
        assert ours == theirs == {"scale": 2.0, "shift": 1.0}
    assert sys.path == path_before


def test_load_local_imports_the_repositorys_modules(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    _write(repo / "ember_hub_test_models.py", "import ember\n"
           "def build():\n    return ember.nn.Linear(2, 3)\n")
    _write(repo / "hubconf.py", "from ember_hub_test_models import build as linear\n")
    monkeypatch.delitem(sys.modules, "ember_hub_test_models", raising=False)
    model = ember.hub.load(str(repo), "linear", source="local")
    sys.modules.pop("ember_hub_test_models", None)
    assert isinstance(model, ember.nn.Linear) and model.weight.shape == (3, 2)


@pytest.mark.parametrize("model, error, text", [
    ("missing", RuntimeError, "Cannot find callable missing in hubconf"),
    ("HIDDEN_CONSTANT", RuntimeError, "Cannot find callable HIDDEN_CONSTANT in hubconf"),
    (3, ValueError, "Invalid input: model should be a string of function name"),
])
def test_load_local_errors_like_torch(tmp_path, model, error, text):
    _write(tmp_path / "hubconf.py", HUBCONF)
    for hub in (ember.hub, torch.hub):
        with pytest.raises(error) as info:
            hub.load(str(tmp_path), model, source="local")
        assert str(info.value) == text


def test_missing_dependencies_like_torch(tmp_path):
    _write(tmp_path / "hubconf.py", "dependencies = ['json', 'no_such_package_a', "
           "'no_such_package_b']\ndef f():\n    return 1\n")
    for hub in (ember.hub, torch.hub):
        with pytest.raises(RuntimeError, match="^Missing dependencies: no_such_package_a, "
                                               "no_such_package_b$"):
            hub.load(str(tmp_path), "f", source="local")


def test_unknown_source_like_torch(tmp_path):
    for hub in (ember.hub, torch.hub):
        with pytest.raises(ValueError, match='^Unknown source: "gitlab". Allowed values: '
                                             '"github" | "local".$'):
            hub.load(str(tmp_path), "f", source="GitLab")


def test_missing_hubconf(tmp_path):
    for hub in (ember.hub, torch.hub):
        with pytest.raises(FileNotFoundError):
            hub.load(str(tmp_path), "f", source="local")


# --- GitHub repositories: the cache, the archive, the trust prompt ---------------------

def _cache_repo(home, name="owner_repo_main"):
    _write(home / "hub" / name / "hubconf.py", HUBCONF)


def test_cached_repo_list_help_load_like_torch(homes, capsys):
    ember_home, torch_home = homes
    _cache_repo(ember_home)
    _cache_repo(torch_home)
    assert ember.hub.list("owner/repo:main") == torch.hub.list("owner/repo:main") == ["affine"]
    assert ember.hub.help("owner/repo:main", "affine") == \
        torch.hub.help("owner/repo:main", "affine") == "An affine map, as a dict."
    assert ember.hub.load("owner/repo:main", "affine", 3) == \
        torch.hub.load("owner/repo:main", "affine", 3) == {"scale": 3, "shift": 0.0}
    err = capsys.readouterr().err
    assert f"Using cache found in {ember_home / 'hub' / 'owner_repo_main'}\n" in err
    assert f"Using cache found in {torch_home / 'hub' / 'owner_repo_main'}\n" in err
    ember.hub.list("owner/repo:main", verbose=False)
    ember.hub.load("owner/repo:main", "affine", 3, verbose=False)
    assert capsys.readouterr().err == ""
    # a repository in the cache counts as trusted: nothing is added to the trusted list
    assert (ember_home / "hub" / "trusted_list").read_text() == \
        (torch_home / "hub" / "trusted_list").read_text() == ""


def test_branch_with_a_slash_is_cached_with_an_underscore(homes):
    ember_home, _ = homes
    _cache_repo(ember_home, "owner_repo_feature_x")
    assert ember.hub.list("owner/repo:feature/x") == ["affine"]


@pytest.mark.parametrize("answer, error", [("n", Exception), ("", Exception), ("No", Exception),
                                           ("maybe", ValueError), ("y", None), ("YES", None)])
def test_trust_prompt_like_torch(homes, monkeypatch, capsys, answer, error):
    ember_home, torch_home = homes
    prompts = []
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or answer)
    results = []
    for hub, home in ((ember.hub, ember_home), (torch.hub, torch_home)):
        _cache_repo(home)
        if error is None:
            results.append(hub.list("owner/repo:main", trust_repo=False))
        else:
            with pytest.raises(error) as info:
                hub.list("owner/repo:main", trust_repo=False)
            results.append((type(info.value), str(info.value)))
    assert results[0] == results[1]
    assert len(prompts) == 2 and prompts[0] == prompts[1]
    assert "owner_repo does not belong to the list of trusted repositories" in prompts[0]
    if error is None:
        assert "The repository is already trusted." in capsys.readouterr().out


def _github_zip(path, root="owner-repo-0123abc", hubconf=HUBCONF):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{root}/", "")
        zf.writestr(f"{root}/hubconf.py", hubconf)
        zf.writestr(f"{root}/pkg/__init__.py", "")
    return path


def test_github_archive_is_downloaded_and_extracted_like_torch(tmp_path, homes, monkeypatch,
                                                               capsys):
    ember_home, torch_home = homes
    archive = _github_zip(tmp_path / "archive.zip")
    links = []

    def link(owner, name, ref):
        links.append((owner, name, ref))
        return archive.as_uri()

    monkeypatch.setattr(ember.hub, "_git_archive_link", link)
    monkeypatch.setattr(torch.hub, "_git_archive_link", link)
    for hub in (ember.hub, torch.hub):
        assert hub.load("owner/repo:v1.0", "affine", 5, trust_repo=True,
                        skip_validation=True) == {"scale": 5, "shift": 0.0}
    assert links == [("owner", "repo", "v1.0")] * 2
    assert _tree(ember_home / "hub") == _tree(torch_home / "hub") == \
        ["owner_repo_v1.0/hubconf.py", "owner_repo_v1.0/pkg/__init__.py", "trusted_list"]
    # trust_repo=True put the new repository on the trusted list
    assert (ember_home / "hub" / "trusted_list").read_text() == \
        (torch_home / "hub" / "trusted_list").read_text() == "owner_repo\n"
    out = capsys.readouterr().out
    assert f'Downloading: "{archive.as_uri()}" to {ember_home / "hub" / "v1.0.zip"}\n' in out
    # cached now: the archive is not read again; force_reload reads it again
    archive.unlink()
    assert ember.hub.list("owner/repo:v1.0") == ["affine"]
    with pytest.raises(RuntimeError, match="no internet connection"):
        ember.hub.list("owner/repo:v1.0", force_reload=True, skip_validation=True)


def test_github_archive_cannot_escape_the_hub_dir(tmp_path, homes, monkeypatch):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("owner-repo-1/hubconf.py", HUBCONF)
        zf.writestr("owner-repo-1/../../escaped.py", "")
    monkeypatch.setattr(ember.hub, "_git_archive_link", lambda *args: archive.as_uri())
    monkeypatch.setattr(torch.hub, "_git_archive_link", lambda *args: archive.as_uri())
    for hub in (ember.hub, torch.hub):
        with pytest.raises(ValueError, match="^Archive entry contains directory traversal: "
                                             "owner-repo-1/../../escaped.py$"):
            hub.load("owner/repo:main", "affine", 1, trust_repo=True, skip_validation=True)
    assert not (tmp_path / "escaped.py").exists()


@pytest.mark.parametrize("github", ["owner", "owner/repo/extra", "owner/repo:a:b", "/repo:main",
                                    "owner/:main", "owner/repo:"])
def test_malformed_repository_names(github):
    with pytest.raises(ValueError, match="repo_owner/repo_name"):
        ember.hub.load(github, "affine", trust_repo=True)


def test_default_branch(homes, monkeypatch):
    ember_home, _ = homes

    def not_found(url):
        raise HTTPError(url, 404, "Not Found", {}, None)

    monkeypatch.setattr(ember.hub, "urlopen", not_found)
    _cache_repo(ember_home, "owner_repo_master")
    assert ember.hub.list("owner/repo") == ["affine"]


def _offline(request):
    raise URLError("[Errno -3] Temporary failure in name resolution")


def test_no_network_without_ref_like_torch(homes, monkeypatch):
    ember_home, torch_home = homes
    monkeypatch.setattr(ember.hub, "urlopen", _offline)
    monkeypatch.setattr(torch.hub, "urlopen", _offline)
    for hub, home in ((ember.hub, ember_home), (torch.hub, torch_home)):
        with pytest.raises(RuntimeError, match="^It looks like there is no internet connection "
                                               r"and the repo could not be found in the cache \("
                           ) as info:
            hub.list("owner/repo", trust_repo=True)
        assert str(home / "hub") in str(info.value)
        # the cached main or master branch is used instead
        _cache_repo(home, "owner_repo_master")
        assert hub.list("owner/repo") == ["affine"]


@pytest.mark.parametrize("skip_validation", [False, True])
def test_no_network_with_ref_is_a_clear_error(homes, monkeypatch, skip_validation):
    ember_home, _ = homes
    monkeypatch.setattr(ember.hub, "urlopen", _offline)
    with pytest.raises(RuntimeError) as info:
        ember.hub.load("owner/repo:v2", "affine", 1, trust_repo=True,
                       skip_validation=skip_validation)
    message = str(info.value)
    assert "no internet connection" in message and "owner/repo:v2" in message
    assert "source='local'" in message and str(ember_home / "hub") in message
    assert isinstance(info.value.__cause__, URLError)
    assert sorted(os.listdir(ember_home / "hub")) == ["trusted_list"]


def test_http_errors_are_not_hidden(homes, monkeypatch):
    def forbidden(request):
        raise HTTPError("https://api.github.com", 403, "rate limited", {}, None)

    monkeypatch.setattr(ember.hub, "urlopen", forbidden)
    with pytest.raises(HTTPError):
        ember.hub.load("owner/repo:v2", "affine", 1, trust_repo=True)


def test_fork_validation(monkeypatch):
    pages = {"branches": [[{"name": "main", "commit": {"sha": "abc123"}}], []],
             "tags": [[{"name": "v1", "commit": {"sha": "fed987"}}], []]}
    seen = []

    def read(request):
        url = request.full_url
        seen.append(url)
        kind = url.split("/")[-1].split("?")[0]
        page = int(url.rsplit("page=", 1)[1])
        return json.dumps(pages[kind][page - 1])

    monkeypatch.setattr(ember.hub, "_read_url", read)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    for ref in ("main", "v1", "abc1", "fed9"):
        ember.hub._validate_not_a_forked_repo("owner", "repo", ref)
    assert seen[0] == "https://api.github.com/repos/owner/repo/branches?per_page=100&page=1"
    with pytest.raises(ValueError, match="^Cannot find dev in https://github.com/owner/repo. "
                                         "If it's a commit from a forked repo"):
        ember.hub._validate_not_a_forked_repo("owner", "repo", "dev")

