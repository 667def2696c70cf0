"""Atomic replacement of a file: a crash while saving never leaves a half-written checkpoint.

The data goes to a temporary file beside the target, named
``.<target name>.<pid>.ember-tmp`` (plus a random part), which is flushed and
fsynced, then renamed over the target with ``os.replace`` and the directory is
fsynced.  A process killed before the rename leaves only its temporary file,
which the next save to the same target removes once its writer is gone.
"""
import contextlib
import os
import secrets
import stat

TEMP_SUFFIX = '.ember-tmp'


def _temp_prefix(target):
    return f'.{os.path.basename(target)}.'


def _process_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temps(target):
    """Deletes temporary files of earlier saves to ``target`` whose writing process no longer runs."""
    directory = os.path.dirname(target) or '.'
    prefix = _temp_prefix(target)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
            continue
        pid_part = name[len(prefix):-len(TEMP_SUFFIX)].split('.', 1)[0]
        if pid_part.isdigit() and not _process_alive(int(pid_part)):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name))


def _fsync_directory(directory):
    if os.name != 'posix':
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def resolve_target(path):
    """The file an atomic save must replace: symlinks are followed, so the link keeps pointing at the checkpoint."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    return os.path.realpath(path) if os.path.islink(path) else path


def needs_direct_write(target):
    """True for targets that are not regular files (``/dev/null``, a FIFO): those are written in place."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode)


@contextlib.contextmanager
def atomic_open(target):
    """Yields a binary file whose content replaces ``target`` atomically when the block ends without error."""
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    remove_stale_temps(target)
    temp = os.path.join(directory, f'{_temp_prefix(target)}{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}')
    file = open(temp, 'xb')
    try:
        yield file
        file.flush()
        os.fsync(file.fileno())
        file.close()
        with contextlib.suppress(OSError):
            os.chmod(temp, stat.S_IMODE(os.stat(target).st_mode))   # keep the old file's permissions
        os.replace(temp, target)
    except BaseException:
        file.close()
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(directory)
