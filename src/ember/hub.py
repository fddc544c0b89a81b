"""Pretrained weights and models from URLs and repositories, as ``torch.hub``.

Two things scripts take from PyTorch's hub work the same here:

* :func:`load_state_dict_from_url` downloads a checkpoint once into
  ``<hub dir>/checkpoints`` and loads it with :func:`ember.load` (safetensors:
  no code runs from the file);
* :func:`load` imports the ``hubconf.py`` of a local directory or of a GitHub
  repository (downloaded as a zip archive into the hub directory) and calls one of
  its entrypoints.  That file is Python code: it runs with your permissions, which
  is why a GitHub repository must be trusted first (``trust_repo``).

The hub directory is ``$EMBER_HOME/hub`` (``EMBER_HOME`` defaults to
``$XDG_CACHE_HOME/ember``, itself defaulting to ``~/.cache/ember``), as PyTorch
uses ``$TORCH_HOME/hub``; :func:`set_dir` overrides it.
"""
import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import uuid
import warnings
import zipfile
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

from ember.serialization import load as _ember_load

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load",
           "load_state_dict_from_url", "set_dir"]

# "-<hex>." in a file name is the start of its SHA-256 (resnet18-bfd8deac.pth), as PyTorch
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
_PATH_SEP_PATTERN = re.compile(r"[/\\]")
# owners whose repositories need no confirmation: PyTorch's list, so that trust_repo="check"
# asks about the same repositories as torch.hub
_TRUSTED_REPO_OWNERS = ("facebookresearch", "facebookincubator", "pytorch", "fairinternal")
ENV_GITHUB_TOKEN = "GITHUB_TOKEN"
ENV_EMBER_HOME = "EMBER_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
DEFAULT_CACHE_DIR = "~/.cache"
VAR_DEPENDENCY = "dependencies"
MODULE_HUBCONF = "hubconf.py"
READ_DATA_CHUNK = 128 * 1024
_hub_dir = None


def get_dir():
    """The hub directory, where downloaded checkpoints and repositories are kept.

    :func:`set_dir`'s directory if it was called, else ``$EMBER_HOME/hub``, where
    ``EMBER_HOME`` defaults to ``$XDG_CACHE_HOME/ember`` and ``XDG_CACHE_HOME`` to
    ``~/.cache`` (PyTorch's layout, with ``ember`` for ``torch``).

    Returns
    -------
    str
        The directory (it need not exist yet).

    Examples
    --------
    >>> import os, ember.hub
    >>> os.path.basename(ember.hub.get_dir())
    'hub'
    """
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_ember_home(), "hub")


def set_dir(d):
    """Set the hub directory used by the functions of :mod:`ember.hub`.

    Parameters
    ----------
    d : str or os.PathLike
        The directory; ``~`` is expanded.  It is created when first needed.
    """
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def _get_ember_home():
    default = os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "ember")
    return os.path.expanduser(os.getenv(ENV_EMBER_HOME, default))


class _Progress:
    """What tqdm shows, reduced to a percentage (or a byte count) on stderr, for when
    tqdm is not installed."""

    def __init__(self, total, disable):
        self.total, self.disable, self.n = total, disable, 0

    def update(self, n):
        if self.disable:
            return
        self.n += n
        if self.total is None:
            sys.stderr.write(f"\r{self.n:.1f} bytes")
        else:
            sys.stderr.write(f"\r{100 * self.n / float(self.total):.1f}%")
        sys.stderr.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if not self.disable:
            sys.stderr.write("\n")


def _progress_bar(total, disable):
    try:
        from tqdm import tqdm
    except ImportError:
        return _Progress(total, disable)
    return tqdm(total=total, disable=disable, unit="B", unit_scale=True, unit_divisor=1024)


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Download the object at ``url`` to the file ``dst``.

    The data is streamed into a temporary file next to ``dst``
    (``<dst>.<random hex>.partial``), checked, synced, then renamed over ``dst``: an
    interrupted or rejected download never leaves a partial ``dst`` nor replaces a
    previous one.

    Parameters
    ----------
    url : str
        Any URL that :func:`urllib.request.urlopen` opens (``https://``, ``http://``,
        ``file://``).
    dst : str or os.PathLike
        Where to save it (``~`` is expanded); its directory must exist.
    hash_prefix : str, optional
        When given, the SHA-256 hex digest of the data must start with it.
    progress : bool, optional
        Whether to show a progress bar on stderr (tqdm's when installed).

    Raises
    ------
    RuntimeError
        When the digest does not start with ``hash_prefix``.
    urllib.error.URLError
        When the URL cannot be opened (``HTTPError`` for an HTTP error status).

    Examples
    --------
    >>> import os, tempfile, pathlib, ember.hub
    >>> folder = tempfile.mkdtemp()
    >>> source = os.path.join(folder, "data.bin")
    >>> with open(source, "wb") as f:
    ...     _ = f.write(b"ember")
    >>> copy = os.path.join(folder, "copy.bin")
    >>> ember.hub.download_url_to_file(pathlib.Path(source).as_uri(), copy, progress=False)
    >>> open(copy, "rb").read()
    b'ember'
    """
    dst = os.path.expanduser(dst)
    for _ in range(tempfile.TMP_MAX):
        tmp_dst = f"{dst}.{uuid.uuid4().hex}.partial"
        try:
            f = open(tmp_dst, "xb")  # noqa: SIM115 (closed in the finally clause)
        except FileExistsError:
            continue
        break
    else:
        raise FileExistsError(f"no usable temporary file name found for {dst!r}")
    try:
        with urlopen(Request(url, headers={"User-Agent": "ember.hub"})) as response:
            lengths = response.info().get_all("Content-Length")
            total = int(lengths[0]) if lengths else None
            sha256 = hashlib.sha256() if hash_prefix is not None else None
            with _progress_bar(total, disable=not progress) as bar:
                while buffer := response.read(READ_DATA_CHUNK):
                    f.write(buffer)
                    if sha256 is not None:
                        sha256.update(buffer)
                    bar.update(len(buffer))
        f.flush()
        os.fsync(f.fileno())
        f.close()
        if sha256 is not None:
            digest = sha256.hexdigest()
            if digest[:len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        os.replace(tmp_dst, dst)
    finally:
        f.close()
        if os.path.exists(tmp_dst):
            os.remove(tmp_dst)


def _safe_extract_zip(zip_file, extract_to):
    """Extract ``zip_file`` into ``extract_to``, refusing entries that would land outside
    it (absolute paths, ``..``): a ValueError naming the entry."""
    extract_to = Path(extract_to).resolve(strict=False)
    for member in zip_file.infolist():
        filename = os.path.normpath(member.filename)
        if filename.startswith(("/", "\\")) or (
                len(filename) >= 2 and filename[1] == ":" and filename[0].isalpha()):
            raise ValueError(f"Archive entry has absolute path: {member.filename}")
        if ".." in re.split(_PATH_SEP_PATTERN, filename):
            raise ValueError(f"Archive entry contains directory traversal: {member.filename}")
        if not (extract_to / filename).resolve(strict=False).is_relative_to(extract_to):
            raise ValueError(f"Archive entry escapes target directory: {member.filename}")
        zip_file.extract(member, extract_to)


def _is_legacy_zip_format(filename):
    """Whether ``filename`` is a zip archive of a single file: a checkpoint zipped by
    hand, which torch.hub extracts before loading it."""
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as zf:
            infolist = zf.infolist()
        return len(infolist) == 1 and not infolist[0].is_dir()
    return False


def _legacy_zip_load(filename, model_dir, map_location, weights_only):
    warnings.warn("Extracting a checkpoint from a zip archive of one file, as torch.hub does "
                  "for files saved before PyTorch 1.6; PyTorch deprecates this: publish the "
                  "checkpoint file itself.", FutureWarning, stacklevel=3)
    with zipfile.ZipFile(filename) as f:
        member, = f.infolist()
        _safe_extract_zip(f, model_dir)
    return _ember_load(os.path.join(model_dir, member.filename), map_location=map_location,
                       weights_only=weights_only)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True,
                             check_hash=False, file_name=None, weights_only=False):
    """Load the checkpoint at ``url``, downloading it the first time.

    The file is kept as ``<model_dir>/<file name>``, the file name being the last
    component of the URL's path (or ``file_name``); when that file exists it is
    loaded without downloading anything.  It is read with :func:`ember.load`, so it is
    a file written by :func:`ember.save` or any safetensors file, and no code from it
    ever runs.  A zip archive holding one file is extracted into ``model_dir`` first,
    with a FutureWarning, as torch.hub does.  ``Downloading: "<url>" to <path>`` is
    written to stdout before a download.

    Parameters
    ----------
    url : str
        URL of the checkpoint (``file://`` URLs work too).
    model_dir : str, optional
        Directory to keep it in.  Default: ``<hub dir>/checkpoints``, the hub
        directory being :func:`get_dir`'s.
    map_location : str, device, dict, callable or None, optional
        Where to put the tensors, as in :func:`ember.load`.
    progress : bool, optional
        Whether to show a progress bar on stderr while downloading.
    check_hash : bool, optional
        When True and the file name holds ``-<hex digits>.`` (``resnet18-5c106cde.pth``),
        the SHA-256 digest of the download must start with those digits.
    file_name : str, optional
        Name of the kept file instead of the URL's.
    weights_only : bool, optional
        Passed to :func:`ember.load`: the format holds no code, so every load is
        weights-only.

    Returns
    -------
    object
        What the file holds, usually a state dict.

    Raises
    ------
    RuntimeError
        When ``check_hash`` finds another digest (nothing is kept then).

    Examples
    --------
    >>> import os, tempfile, pathlib, ember, ember.hub
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "linear.safetensors")
    >>> ember.save(ember.nn.Linear(3, 2).state_dict(), path)
    >>> state = ember.hub.load_state_dict_from_url(pathlib.Path(path).as_uri(),
    ...     model_dir=os.path.join(folder, "cache"), progress=False)  # doctest: +ELLIPSIS
    Downloading: "file:///.../linear.safetensors" to .../cache/linear.safetensors
    >>> sorted(state)
    ['bias', 'weight']
    """
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            match = HASH_REGEX.search(filename)
            hash_prefix = match.group(1) if match else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    if _is_legacy_zip_format(cached_file):
        return _legacy_zip_load(cached_file, model_dir, map_location, weights_only)
    return _ember_load(cached_file, map_location=map_location, weights_only=weights_only)


# --- hubconf.py: local directories and GitHub repositories ---------------------------

@contextlib.contextmanager
def _add_to_sys_path(path):
    """``path`` first on sys.path meanwhile, so hubconf.py imports its repository's modules."""
    sys.path.insert(0, path)
    try:
        yield
    finally:
        sys.path.remove(path)


def _import_module(name, path):
    """A fresh module run from the file ``path`` (not put in sys.modules)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _import_hubconf(repo_dir):
    with _add_to_sys_path(repo_dir):
        return _import_module(MODULE_HUBCONF, os.path.join(repo_dir, MODULE_HUBCONF))


def _load_attr_from_module(module, func_name):
    return getattr(module, func_name) if func_name in dir(module) else None


def _check_dependencies(module):
    dependencies = _load_attr_from_module(module, VAR_DEPENDENCY)
    if dependencies is not None:
        missing = [name for name in dependencies if importlib.util.find_spec(name) is None]
        if missing:
            raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")


def _load_entry_from_hubconf(module, model):
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    # a missing package imported at the top of hubconf.py fails earlier, with Python's
    # own ImportError: the dependencies are only known once the module has run
    _check_dependencies(module)
    entry = _load_attr_from_module(module, model)
    if entry is None or not callable(entry):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return entry


def _parse_repo_info(github):
    """``(owner, name, ref)`` of ``"owner/name[:ref]"``; without a ref, ``main`` if the
    repository has that branch, else ``master`` (from the cache when offline)."""
    repo_info, _, ref = github.partition(":")
    parts = repo_info.split("/")
    if len(parts) != 2 or not all(parts) or ":" in ref or (":" in github and not ref):
        raise ValueError(f'Invalid GitHub repository "{github}": expected '
                         '"repo_owner/repo_name[:ref]", for example "pytorch/vision:0.10"')
    repo_owner, repo_name = parts
    if ref:
        return repo_owner, repo_name, ref
    try:
        with urlopen(f"https://github.com/{repo_owner}/{repo_name}/tree/main/"):
            return repo_owner, repo_name, "main"
    except HTTPError as error:
        if error.code == 404:
            return repo_owner, repo_name, "master"
        raise
    except URLError as error:
        for possible_ref in ("main", "master"):
            if os.path.exists(os.path.join(get_dir(), f"{repo_owner}_{repo_name}_{possible_ref}")):
                return repo_owner, repo_name, possible_ref
        raise RuntimeError("It looks like there is no internet connection and the repo could "
                           f"not be found in the cache ({get_dir()})") from error


def _git_archive_link(repo_owner, repo_name, ref):
    return f"https://github.com/{repo_owner}/{repo_name}/zipball/{ref}"


def _read_url(request):
    with urlopen(request) as response:
        return response.read().decode(response.headers.get_content_charset("utf-8"))


def _validate_not_a_forked_repo(repo_owner, repo_name, ref):
    """Raise a ValueError unless ``ref`` is a branch, tag or commit of the repository itself
    (GitHub serves a fork's commits under the parent's name too)."""
    headers = {"Accept": "application/vnd.github.v3+json"}
    token = os.environ.get(ENV_GITHUB_TOKEN)
    if token is not None:
        headers["Authorization"] = f"token {token}"
    for url_prefix in (f"https://api.github.com/repos/{repo_owner}/{repo_name}/branches",
                       f"https://api.github.com/repos/{repo_owner}/{repo_name}/tags"):
        page = 0
        while True:
            page += 1
            url = f"{url_prefix}?per_page=100&page={page}"
            try:
                response = json.loads(_read_url(Request(url, headers=headers)))
            except HTTPError:
                if "Authorization" not in headers:
                    raise
                # the token may lack the permission: try again without it
                del headers["Authorization"]
                response = json.loads(_read_url(Request(url, headers=headers)))
            if not response:
                break
            for branch in response:
                if branch["name"] == ref or branch["commit"]["sha"].startswith(ref):
                    return
    raise ValueError(f"Cannot find {ref} in https://github.com/{repo_owner}/{repo_name}. If "
                     "it's a commit from a forked repo, please call hub.load() with forked repo "
                     "directly.")


def _remove_if_exists(path):
    if os.path.isfile(path) or os.path.islink(path):
        os.remove(path)
    elif os.path.exists(path):
        shutil.rmtree(path)


def _download_repo(repo_owner, repo_name, ref, hub_dir, repo_dir):
    """Download the zip archive of ``ref`` and extract it as ``repo_dir``."""
    cached_file = os.path.join(hub_dir, ref.replace("/", "_") + ".zip")
    _remove_if_exists(cached_file)
    url = _git_archive_link(repo_owner, repo_name, ref)
    sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
    try:
        download_url_to_file(url, cached_file, progress=False)
    except HTTPError as error:
        if error.code != 300:
            raise
        # 300 Multiple Choices: the ref is both a tag and a branch; as git does, warn and
        # take the branch
        warnings.warn(f"The ref {ref} is ambiguous. Perhaps it is both a tag and a branch in the "
                      "repo? ember.hub will now assume that it's a branch. You can disambiguate "
                      "tags and branches by explicitly passing refs/heads/branch_name or "
                      "refs/tags/tag_name as the ref. That might require using "
                      "skip_validation=True.", stacklevel=4)
        download_url_to_file(_git_archive_link(repo_owner, repo_name, f"refs/heads/{ref}"),
                             cached_file, progress=False)
    with zipfile.ZipFile(cached_file) as archive:
        # GitHub's archives hold one folder, <owner>-<name>-<commit>
        names = archive.namelist()
        if not names:
            raise RuntimeError(f"The archive downloaded from {url} is empty")
        extracted_repo = os.path.join(hub_dir, re.split(_PATH_SEP_PATTERN, names[0])[0])
        _remove_if_exists(extracted_repo)
        _safe_extract_zip(archive, hub_dir)
    _remove_if_exists(cached_file)
    _remove_if_exists(repo_dir)
    shutil.move(extracted_repo, repo_dir)


def _get_cache_or_reload(github, force_reload, trust_repo, verbose=True, skip_validation=False):
    """The folder ``<hub dir>/<owner>_<name>_<ref>`` holding the repository, downloaded
    unless it is there already (or ``force_reload``)."""
    hub_dir = get_dir()
    os.makedirs(hub_dir, exist_ok=True)
    repo_owner, repo_name, ref = _parse_repo_info(github)
    # a branch name may hold "/", which is not possible in a folder name
    owner_name_branch = "_".join([repo_owner, repo_name, ref.replace("/", "_")])
    repo_dir = os.path.join(hub_dir, owner_name_branch)
    _check_repo_is_trusted(repo_owner, repo_name, owner_name_branch, trust_repo=trust_repo)
    if not force_reload and os.path.exists(repo_dir):
        if verbose:
            sys.stderr.write(f"Using cache found in {repo_dir}\n")
        return repo_dir
    try:
        if not skip_validation:
            _validate_not_a_forked_repo(repo_owner, repo_name, ref)
        _download_repo(repo_owner, repo_name, ref, hub_dir, repo_dir)
    except HTTPError:
        raise
    except URLError as error:
        raise RuntimeError(f"It looks like there is no internet connection: {repo_owner}/"
                           f"{repo_name}:{ref} could not be downloaded ({error.reason}) and is not "
                           f"in the cache ({hub_dir}). Copy the repository to a local directory "
                           "and use source='local'.") from error
    return repo_dir


def _check_repo_is_trusted(repo_owner, repo_name, owner_name_branch, trust_repo):
    """Ask whether to trust a repository that is not trusted yet (or when ``trust_repo`` is
    False), and add it to ``<hub dir>/trusted_list``."""
    hub_dir = get_dir()
    filepath = os.path.join(hub_dir, "trusted_list")
    if not os.path.exists(filepath):
        Path(filepath).touch()
    with open(filepath) as file:
        trusted_repos = tuple(line.strip() for line in file)
    # a repository downloaded before the trusted list existed counts as trusted
    trusted_repos_legacy = next(os.walk(hub_dir))[1]
    owner_name = "_".join([repo_owner, repo_name])
    is_trusted = (owner_name in trusted_repos or owner_name_branch in trusted_repos_legacy
                  or repo_owner in _TRUSTED_REPO_OWNERS)
    if trust_repo is False or (trust_repo == "check" and not is_trusted):
        response = input(
            f"The repository {owner_name} does not belong to the list of trusted repositories "
            "and as such cannot be downloaded. Do you trust this repository and wish to add it "
            "to the trusted list of repositories (y/N)?")
        if response.lower() in ("y", "yes"):
            if is_trusted:
                print("The repository is already trusted.")
        elif response.lower() in ("n", "no", ""):
            raise Exception("Untrusted repository.")  # PyTorch's exception class
        else:
            raise ValueError(f"Unrecognized response {response}.")
    if not is_trusted:
        with open(filepath, "a") as file:
            file.write(owner_name + "\n")


_GITHUB_PARAMETERS = """\
    github : str
        ``"repo_owner/repo_name[:ref]"``, the ref being a branch, a tag or a commit
        (``"pytorch/vision:0.10"``).  Without a ref: ``main`` when the repository has
        that branch, else ``master``.
    force_reload : bool, optional
        Download the repository again even if it is in the cache.
    skip_validation : bool, optional
        When False, the GitHub API is asked whether the ref belongs to the repository
        itself rather than to a fork (set ``GITHUB_TOKEN`` to use a token).
    trust_repo : bool or {"check"}, optional
        ``"check"``: a repository not in ``<hub dir>/trusted_list`` (nor already
        downloaded, nor owned by pytorch, facebookresearch, facebookincubator or
        fairinternal) needs a "y" at a prompt; ``True``: trust it and add it to the
        list; ``False``: always ask."""


def list(github, force_reload=False, skip_validation=False, trust_repo="check",  # noqa: A001
         verbose=True):
    """The entrypoints of a GitHub repository's ``hubconf.py``.

    Parameters
    ----------
{github}
    verbose : bool, optional
        When False, the message saying the cache is used is not written.

    Returns
    -------
    list of str
        Names of the callables of ``hubconf.py`` that do not start with ``_``.
    """
    repo_dir = _get_cache_or_reload(github, force_reload, trust_repo, verbose=verbose,
                                    skip_validation=skip_validation)
    module = _import_hubconf(repo_dir)
    return [name for name in dir(module)
            if callable(getattr(module, name)) and not name.startswith("_")]


def help(github, model, force_reload=False, skip_validation=False,  # noqa: A001
         trust_repo="check"):
    """The docstring of the entrypoint ``model`` of a GitHub repository's ``hubconf.py``.

    Parameters
    ----------
{github}
    model : str
        Name of the entrypoint.

    Returns
    -------
    str or None
        Its docstring.
    """
    repo_dir = _get_cache_or_reload(github, force_reload, trust_repo, verbose=True,
                                    skip_validation=skip_validation)
    return _load_entry_from_hubconf(_import_hubconf(repo_dir), model).__doc__


def load(repo_or_dir, model, *args, source="github", trust_repo="check", force_reload=False,
         verbose=True, skip_validation=False, **kwargs):
    """Call the entrypoint ``model`` of a repository's ``hubconf.py``.

    ``hubconf.py`` is imported with its directory first on ``sys.path`` (so it
    imports the repository's modules); its ``dependencies`` list, when it has one,
    names the packages that must be importable.  The entrypoint is then called with
    ``*args`` and ``**kwargs``: it usually builds a model and loads its weights with
    :func:`load_state_dict_from_url`.

    Parameters
    ----------
    repo_or_dir : str
        With ``source="github"``: ``"repo_owner/repo_name[:ref]"`` (see :func:`list`);
        the repository is downloaded into the hub directory unless it is there already.
        With ``source="local"``: a directory holding a ``hubconf.py``.
    model : str
        Name of a callable of ``hubconf.py``.
    *args, **kwargs
        Passed to it.
    source : {"github", "local"}, optional
        How to read ``repo_or_dir`` (case-insensitive).
    trust_repo, force_reload, skip_validation : optional
        As in :func:`list`; only for ``source="github"``.
    verbose : bool, optional
        When False, the message saying the cache is used is not written.

    Returns
    -------
    object
        What the entrypoint returns.

    Raises
    ------
    ValueError
        For another ``source``, or a ``model`` that is not a str.
    RuntimeError
        When ``model`` is not a callable of ``hubconf.py``, a dependency is missing, or
        a GitHub repository cannot be downloaded for want of a network.

    Examples
    --------
    >>> import os, tempfile, ember.hub
    >>> repo = tempfile.mkdtemp()
    >>> with open(os.path.join(repo, "hubconf.py"), "w") as f:
    ...     _ = f.write("import ember\\n"
    ...                 "def mlp(width=8):\\n"
    ...                 "    '''A two-layer MLP.'''\\n"
    ...                 "    return ember.nn.Sequential(ember.nn.Linear(2, width), ember.nn.ReLU())\\n")
    >>> ember.hub.load(repo, "mlp", width=4, source="local")
    Sequential(
      (0): Linear(in_features=2, out_features=4, bias=True)
      (1): ReLU()
    )
    """
    source = source.lower()
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == "github":
        repo_or_dir = _get_cache_or_reload(repo_or_dir, force_reload, trust_repo,
                                           verbose=verbose, skip_validation=skip_validation)
    return _load_local(repo_or_dir, model, *args, **kwargs)


def _load_local(hubconf_dir, model, *args, **kwargs):
    with _add_to_sys_path(hubconf_dir):
        module = _import_module(MODULE_HUBCONF, os.path.join(hubconf_dir, MODULE_HUBCONF))
        entry = _load_entry_from_hubconf(module, model)
        return entry(*args, **kwargs)


# list and help share the description of their repository arguments
list.__doc__ = list.__doc__.replace("{github}", _GITHUB_PARAMETERS)
help.__doc__ = help.__doc__.replace("{github}", _GITHUB_PARAMETERS)
