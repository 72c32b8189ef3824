"""The command line of ``main.py`` (``cli.app``) and the jsii runtime start-up it calls
(``cli.runtime``). Importing this package loads neither cdktf nor any binding."""

from .app import Invocation, run, start
from .runtime import prepare as prepare_runtime

__all__ = ["Invocation", "prepare_runtime", "run", "start"]
