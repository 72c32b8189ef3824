import modules  # noqa: F401  prepares the jsii runtime before any test imports a binding
