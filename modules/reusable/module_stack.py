"""A stack that is synthesized as a child module: variables in, outputs out, no provider
configuration and no backend (the calling root module owns both)."""

from __future__ import annotations

from typing import Any

from modules.core.stack import ReadableStack

MODULE_ROOT = "${path.module}"


class ModuleStack(ReadableStack):
    """Provider constructs are still created (the bindings need them to synthesize the
    resources' provider requirements); their configuration blocks are left out."""

    def to_terraform(self) -> Any:  # jsii override
        document = super().to_terraform()
        document.pop("provider", None)
        document.pop("//", None)  # cdktf's stack metadata names a backend the module has not
        settings = document.get("terraform", {})
        settings.pop("backend", None)
        return document
