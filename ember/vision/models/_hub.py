"""Downloading weight files into the checkpoint cache (what ``torch.hub`` does for torchvision).

A file is fetched once into ``$TORCH_HOME/hub/checkpoints`` (``TORCH_HOME`` defaults to
``$XDG_CACHE_HOME/torch``, else ``~/.cache/torch``, so ember and PyTorch share one cache) and
read from there afterwards.  Published file names carry the first hex digits of the file's
SHA-256 (``resnet18-f37072fd.pth``); with ``check_hash=True`` a download whose digest does not
start with them is deleted and raises.  Downloads go to a temporary file in the cache folder
and are renamed into place only when complete, so an interrupted download never looks cached.
"""
import hashlib
import os
import re
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request

__all__ = ['get_dir', 'download_url_to_file', 'load_state_dict_from_url']

# the hash prefix is the run of hex digits between a '-' and the extension
HASH_REGEX = re.compile(r'-([a-f0-9]*)\.')
_CHUNK = 1 << 16
_USER_AGENT = 'ember/vision'


def get_dir():
    """The hub folder: ``$TORCH_HOME/hub``, with ``TORCH_HOME`` defaulting to ``~/.cache/torch``."""
    cache = os.getenv('XDG_CACHE_HOME', os.path.join('~', '.cache'))
    return os.path.join(os.path.expanduser(os.getenv('TORCH_HOME', os.path.join(cache, 'torch'))), 'hub')


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Downloads ``url`` to the path ``dst``.

    Args:
        hash_prefix: if given, the SHA-256 hex digest of the download must start with it, else the
            file is discarded and a RuntimeError raised.
        progress: print a one-line progress report to stderr.
    """
    dst = os.path.expanduser(dst)
    folder = os.path.dirname(os.path.abspath(dst))
    request = urllib.request.Request(url, headers={'User-Agent': _USER_AGENT})
    tmp = tempfile.NamedTemporaryFile(delete=False, dir=folder, prefix=os.path.basename(dst) + '.',
                                      suffix='.partial')
    try:
        sha256 = hashlib.sha256()
        with urllib.request.urlopen(request) as response, tmp:
            total = response.headers.get('Content-Length')
            total = int(total) if total and total.isdigit() else None
            done = 0
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                tmp.write(chunk)
                sha256.update(chunk)
                done += len(chunk)
                if progress:
                    _report(done, total)
        if progress:
            sys.stderr.write('\n')
        if hash_prefix is not None:
            digest = sha256.hexdigest()
            if digest[:len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        shutil.move(tmp.name, dst)
    finally:
        if os.path.exists(tmp.name):
            os.remove(tmp.name)


def _report(done, total):
    if total:
        sys.stderr.write(f'\r{done / total:6.1%} of {total / 2 ** 20:.1f} MiB')
    else:
        sys.stderr.write(f'\r{done / 2 ** 20:.1f} MiB')
    sys.stderr.flush()


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None, weights_only=True):
    """Loads the object (a state dict) saved at ``url``, downloading it into the cache the first time.

    Args:
        url: where the file is published.
        model_dir: the cache folder; default ``<hub dir>/checkpoints``.
        map_location: passed to :func:`ember.load`.
        progress: print download progress to stderr.
        check_hash: require the file's SHA-256 to start with the hex digits between a ``-`` and the
            extension in its name (``resnet18-f37072fd.pth``); raises RuntimeError otherwise.
        file_name: the name to cache the file under; default the URL's last path component.
        weights_only: passed to :func:`ember.load` (safe unpickling; on by default).
    """
    import ember
    if model_dir is None:
        model_dir = os.path.join(get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        if progress:
            sys.stderr.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            match = HASH_REGEX.search(filename)
            hash_prefix = match.group(1) if match else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    return ember.load(cached_file, map_location=map_location, weights_only=weights_only)
