"""Not part of the qproto package (setuptools never installs this file).

When a clone of this repository sits in a folder named ``qproto`` and Python runs from the
folder that contains it, Python finds the clone before the installed package and, as the
clone's top level has no ``__init__.py``, imports it as an empty namespace package:
``from qproto import Channel`` then fails. This file turns that import into the installed
package: it imports ``qproto`` again with the clone's parent folder left off ``sys.path`` and
puts the result in ``sys.modules``. Nothing here runs in any other situation.
"""

import os as _os
import sys as _sys


def _installed_qproto():
    parent = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
    saved = list(_sys.path)
    _sys.path[:] = [p for p in _sys.path if _os.path.abspath(p or _os.curdir) != parent]
    shadow = _sys.modules.pop(__name__, None)
    try:
        import qproto as real  # the installed (or editable) package
    except ImportError as exc:
        if shadow is not None:
            _sys.modules[__name__] = shadow
        raise ImportError("qproto is not installed: run `make run` (or `pip install -e .`) in the clone "
                          f"{_os.path.dirname(_os.path.abspath(__file__))}") from exc
    finally:
        _sys.path[:] = saved
    return real


if __name__ == "qproto":
    _sys.modules[__name__] = _installed_qproto()
