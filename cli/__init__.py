"""The command line of ``main.py`` (``cli.app``) and the jsii runtime start-up it calls
(``cli.runtime``). Importing this package loads neither cdktf nor any binding."""

from .app import Invocation, run, start
from .runtime import prepare as prepare_runtime


def synth_atomically(*args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - the same signature as cli.synth's
    """``cli.synth.synth_atomically``, imported on first use (it loads cdktf)."""
    from .synth import synth_atomically as synthesize

    return synthesize(*args, **kwargs)


__all__ = ["Invocation", "prepare_runtime", "run", "start", "synth_atomically"]
