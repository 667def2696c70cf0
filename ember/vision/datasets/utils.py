"""Download, checksum and archive helpers for the datasets (torchvision's ``datasets.utils``).

A download tries each URL in turn (the dataset's mirrors), verifies the MD5 when one is given,
and writes through a ``.part`` file so that an interrupted download never looks complete.
When every URL fails the error names each URL and why it failed.
"""
import bz2
import gzip
import hashlib
import lzma
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile

USER_AGENT = 'ember/vision'
_CHUNK = 1024 * 1024


def default_cache_dir():
    """The folder datasets use when given ``root=None``: ``$EMBER_HOME/datasets``, else
    ``$XDG_CACHE_HOME/ember/datasets``, else ``~/.cache/ember/datasets``."""
    home = os.environ.get('EMBER_HOME')
    if home is None:
        cache = os.environ.get('XDG_CACHE_HOME', os.path.join(os.path.expanduser('~'), '.cache'))
        home = os.path.join(cache, 'ember')
    return os.path.join(home, 'datasets')


def calculate_md5(fpath, chunk_size=_CHUNK):
    """The hex MD5 digest of the file at ``fpath``."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, 'rb') as f:
        for chunk in iter(lambda: f.read(chunk_size), b''):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath, md5, **kwargs):
    """True if the file's MD5 digest equals ``md5``."""
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5=None):
    """True if ``fpath`` is a file and, when ``md5`` is given, its digest matches."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def verify_str_arg(value, arg=None, valid_values=None, custom_msg=None):
    """Checks that ``value`` is a str among ``valid_values``; raises ValueError otherwise."""
    if not isinstance(value, str):
        msg = "Expected type str" + (f" for argument {arg}" if arg is not None else "") + \
              f", but got type {type(value)}."
        raise ValueError(msg)
    if valid_values is None:
        return value
    if value not in valid_values:
        if custom_msg is not None:
            raise ValueError(custom_msg)
        choices = "'" + "', '".join(str(v) for v in valid_values) + "'"
        raise ValueError(f"Unknown value '{value}' for argument {arg}. Valid values are {{{choices}}}.")
    return value


def _urlretrieve(url, fpath, timeout):
    """Streams ``url`` into ``fpath`` (through ``fpath.part``)."""
    request = urllib.request.Request(url, headers={'User-Agent': USER_AGENT})
    part = fpath + '.part'
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(part, 'wb') as f:
            shutil.copyfileobj(response, f, _CHUNK)
        os.replace(part, fpath)
    finally:
        if os.path.exists(part):
            os.remove(part)


def download_url(url, root, filename=None, md5=None, max_redirect_hops=3, mirrors=None, timeout=30):
    """Downloads ``url`` into ``root/filename`` unless a verified copy is already there.

    Args:
        url: the URL to fetch first.
        root: the folder to put the file in.
        filename: the file's name (default: the URL's last part).
        md5: the expected MD5 digest; a download that does not match is deleted and the
            next URL is tried.
        max_redirect_hops: accepted for torchvision's signature (urllib follows redirects).
        mirrors: further URLs of the same file, tried in order when one fails.
        timeout: seconds to wait on a silent connection.

    Raises:
        RuntimeError: naming every URL tried and why it failed.
    """
    root = os.path.expanduser(os.fspath(root))
    if not filename:
        filename = os.path.basename(url)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return fpath

    failures = []
    for candidate in [url] + list(mirrors or ()):
        try:
            _urlretrieve(candidate, fpath, timeout)
        except (urllib.error.URLError, OSError, ValueError) as error:
            failures.append(f"{candidate} ({error})")
            continue
        if check_integrity(fpath, md5):
            return fpath
        got = calculate_md5(fpath) if os.path.isfile(fpath) else 'no file'
        os.remove(fpath)
        failures.append(f"{candidate} (file corrupted: MD5 {got}, expected {md5})")
    tried = '\n  '.join(failures)
    raise RuntimeError(f"Error downloading {filename}; tried:\n  {tried}\n"
                       f"Check the network connection, or put the file at {fpath} by hand.")


# ---------------------------------------------------------------------------------- archives
_COMPRESSIONS = {'.gz': gzip.open, '.bz2': bz2.open, '.xz': lzma.open}
# (suffix, archive type, compression), longest suffixes first
_FILE_TYPES = [('.tar.gz', '.tar', '.gz'), ('.tar.bz2', '.tar', '.bz2'), ('.tar.xz', '.tar', '.xz'),
               ('.tgz', '.tar', '.gz'), ('.tbz2', '.tar', '.bz2'), ('.tbz', '.tar', '.bz2'),
               ('.txz', '.tar', '.xz'), ('.tar', '.tar', None), ('.zip', '.zip', None),
               ('.gz', None, '.gz'), ('.bz2', None, '.bz2'), ('.xz', None, '.xz')]


def _detect_file_type(path):
    """(suffix, archive_type, compression) of ``path``, e.g. ('.tar.gz', '.tar', '.gz')."""
    name = os.path.basename(path).lower()
    for suffix, archive, compression in _FILE_TYPES:
        if name.endswith(suffix):
            return suffix, archive, compression
    known = ', '.join(f"'{s}'" for s, _, _ in _FILE_TYPES)
    raise RuntimeError(f"Unknown compression or archive type of '{path}'. Known suffixes are: {known}.")


def _extract_tar(from_path, to_path, compression):
    mode = 'r:' + compression[1:] if compression else 'r'
    with tarfile.open(from_path, mode) as tar:
        if hasattr(tarfile, 'data_filter'):
            tar.extractall(to_path, filter='data')
        else:  # older Pythons: refuse members that would land outside to_path
            base = os.path.realpath(to_path)
            for member in tar.getmembers():
                target = os.path.realpath(os.path.join(to_path, member.name))
                if os.path.commonpath([base, target]) != base or member.issym() or member.islnk():
                    raise RuntimeError(f"Refusing to extract unsafe archive member '{member.name}'")
            tar.extractall(to_path)


def _extract_zip(from_path, to_path):
    base = os.path.realpath(to_path)
    with zipfile.ZipFile(from_path) as archive:
        for name in archive.namelist():
            target = os.path.realpath(os.path.join(to_path, name))
            if os.path.commonpath([base, target]) != base:
                raise RuntimeError(f"Refusing to extract unsafe archive member '{name}'")
        archive.extractall(to_path)


def extract_archive(from_path, to_path=None, remove_finished=False):
    """Extracts a .tar/.tar.gz/.tgz/.tar.bz2/.tar.xz/.zip archive, or decompresses a .gz/.bz2/.xz file.

    Returns:
        The folder extracted into (archives), or the path of the decompressed file.
    """
    from_path = os.fspath(from_path)
    if to_path is None:
        to_path = os.path.dirname(from_path)
    to_path = os.fspath(to_path)
    suffix, archive, compression = _detect_file_type(from_path)
    if archive is None:  # a single compressed file
        out = os.path.join(to_path, os.path.basename(from_path)[:-len(suffix)])
        with _COMPRESSIONS[compression](from_path, 'rb') as src, open(out, 'wb') as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
        result = out
    else:
        os.makedirs(to_path, exist_ok=True)
        if archive == '.zip':
            _extract_zip(from_path, to_path)
        else:
            _extract_tar(from_path, to_path, compression)
        result = to_path
    if remove_finished:
        os.remove(from_path)
    return result


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None,
                                 remove_finished=False, mirrors=None):
    """Downloads ``url`` (or a mirror) into ``download_root`` and extracts it into ``extract_root``."""
    download_root = os.path.expanduser(os.fspath(download_root))
    if extract_root is None:
        extract_root = download_root
    if not filename:
        filename = os.path.basename(url)
    download_url(url, download_root, filename, md5, mirrors=mirrors)
    archive = os.path.join(download_root, filename)
    return extract_archive(archive, extract_root, remove_finished)


def iterable_to_str(iterable):
    return "'" + "', '".join(str(item) for item in iterable) + "'"
